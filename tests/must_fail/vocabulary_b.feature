Feature: Must fail: module parity, pub/sub, client states

  Scenario: a module path with no file there names the path tried
    Fails with: no module at
    Fails with: no/such/libmod.so
    Fails with: working directory
    Given a primary with 1 replica loading the module "no/such/libmod.so"
