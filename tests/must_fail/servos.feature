Feature: Must fail: the application's own processes
  The servo is tests/fixtures/servos/servo.py (Python, standard library
  only), declared in tests/must_fail/roles.toml. Each misbehaviour fails the
  step with the role, the implementation, the step's place and the servo's
  stderr; the servo is stopped.

  Scenario: a servo step that fails
    Fails with: the "app" process (implementation "python"
    Fails with: failed the step at tests/must_fail/servos.feature:13
    Fails with: the sum is 5, not 6
    Fails with: adding 2 and 3
    When the "app" process adds 2 and 2 and expects 4
    Then the "app" process adds 2 and 3 and expects 6

  Scenario: an And after a role step keeps the role
    Fails with: the sum is 2, not 3
    When the "app" process adds 1 and 1 and expects 2
    And adds 1 and 1 and expects 3

  Scenario: a servo that hangs
    Fails with: it did not answer within 3 s
    Fails with: hanging now
    Fails with: VALKEY_BDD_SERVO_TIMEOUT
    Then the "app" process hangs

  Scenario: a servo that exits mid-step
    Fails with: it closed its connection
    Fails with: exited with code 7
    Fails with: exiting with 7 mid-step
    Then the "app" process exits with code 7

  Scenario: a servo that writes garbage on its socket
    Fails with: not a JSON-RPC 2.0 response
    Fails with: "this is not JSON"
    Then the "app" process writes garbage on its socket
