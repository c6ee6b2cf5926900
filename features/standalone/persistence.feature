Feature: Data across restarts
  A restart keeps the server's port and directory, so what was persisted is
  loaded again; what was not, is gone.

  Scenario: Data saved with SAVE survives a restart
    Given a server
    When I run `SET K V`
    And I run `SAVE`
    Then the reply is "OK"
    When I restart the server
    Then the server is running
    When I run `GET K`
    Then the reply is "V"

  Scenario: Data not saved is lost on restart
    Given a server
    And I run `SET K V`
    When I restart the server
    And I run `GET K`
    Then the reply is nil

  Scenario: AOF brings back writes after a kill
    Given a server with the config:
      | appendonly  | yes      |
      | appendfsync | always   |
    When I run `SET K V`
    And I run `RPUSH L a b`
    And I kill the server
    Then the server is not running
    When I restart the server
    And I run `GET K`
    Then the reply is "V"
    When I run `LLEN L`
    Then the reply is the integer 2

  Scenario: Save points in the configuration save on a graceful restart
    Given a server with the config:
      | save | 3600 1 |
    When I run `SET K V`
    And I restart the server
    And I run `GET K`
    Then the reply is "V"
    And the log of the server contains "DB saved on disk"
