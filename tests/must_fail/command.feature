Feature: Must fail: the command sentences that check what they run

  Scenario: a set-up command answered by an error
    Fails with: `INCR k` answered the error: ERR value is not an integer
    Given a server
    And I ran the commands:
      """
      SET k v
      INCR k
      """
