Feature: Must fail: the process sentences
  No server needed: the programs are plain shell commands.

  Scenario: a program that exits without printing the line
    Fails with: to print "goodbye"
    Fails with: exited with code 0
    When process "p" runs `echo hello`
    Then process "p" prints "goodbye"

  Scenario: a program that exits without listening
    Fails with: to listen on port
    When process "p" runs `echo {free_port}`
    And process "p" listens on its port

  Scenario: another exit code
    Fails with: exited with code 3, expected exit code 0
    When process "p" runs `exit 3`
    Then process "p" exits with code 0

  Scenario: a killed program has no exit code
    Fails with: was killed by signal 9 (SIGKILL), expected exit code 0
    When process "p" runs `sleep 30`
    And I kill process "p"
    Then process "p" exits with code 0

  Scenario: output without the text
    Fails with: does not contain "world"
    When process "p" runs `echo hello`
    And process "p" prints "hello"
    Then the output of process "p" contains "world"

  Scenario: killed by another signal
    Fails with: expected it to be killed by SIGTERM
    When process "p" runs `sleep 30`
    And I kill process "p"
    Then process "p" was killed by SIGTERM

  Scenario: a program that exited by itself was not killed
    Fails with: exited with code 0, expected it to be killed by SIGKILL
    When process "p" runs `true`
    Then process "p" exits with code 0
    And process "p" was killed by SIGKILL

  Scenario: a running program was not killed
    Fails with: is still running
    When process "p" runs `sleep 30`
    Then process "p" was killed by SIGKILL
