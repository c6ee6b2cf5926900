Feature: The application's own processes serve its sentences
  A step naming a role declared in roles.toml runs in that role's servo: a
  process of the application, here tests/fixtures/servos/servo.py, a servo
  in plain Python. It gets the scenario's servers and the run's password,
  and reaches the server with its own client.

  Scenario: a servo writes to the scenario's server with its own client
    Given a server
    When the "app" process sets "greeting" to "hello"
    And sees the server "default" with the table:
      | key      | value |
      | greeting | hello |
    When I run `GET greeting`
    Then the reply is "hello"

  Scenario: a servo's sentence gets placeholders filled in
    Given a server
    When I run `INCR visits`
    And I remember the reply as "visits"
    Then the "app" process adds ${visits} and 1 and expects 2
