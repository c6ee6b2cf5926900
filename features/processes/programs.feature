Feature: Your own programs beside the servers
  An application team's acceptance spec: start the program under test, tell
  it where the server is, wait until it is ready, and check what it did to
  the data, what it printed and how it exited.

  Scenario: A worker takes a job from the queue and reports it
    Given a server
    When process "worker" runs `echo ready; valkey-cli -p {port} BLPOP jobs 10; valkey-cli -p {port} SET done yes`
    And process "worker" prints "ready"
    And I run `RPUSH jobs resize-photo`
    Then process "worker" exits with code 0
    And the output of process "worker" contains "resize-photo"
    When I run `GET done`
    Then the reply is "yes"

  Scenario: A program finds the server through its environment
    Given a server
    When process "app" runs `valkey-cli -u "$VALKEY_URL" SET written-by app`
    Then process "app" exits with code 0
    When I run `GET written-by`
    Then the reply is "app"

  Scenario: A service is ready when it listens on its port, and stops on SIGTERM
    Given a server
    When process "web" runs `exec python3 -m http.server {free_port} --bind 127.0.0.1`
    And process "web" listens on its port
    And I stop process "web"
    Then process "web" was killed by SIGTERM

  Scenario: A failing program's exit code and output are checked
    Given a server
    When process "migrate" runs `echo "schema v2 missing" >&2; exit 3`
    Then process "migrate" exits with code 3
    And the output of process "migrate" contains "schema v2 missing"

  Scenario: A program that never finishes is killed
    Given a server
    When process "daemon" runs `echo started; exec sleep 600`
    And process "daemon" prints "started"
    And I kill process "daemon"
    Then process "daemon" was killed by SIGKILL

  Scenario: Your programs get the run's password from their environment
    Given a server
    When process "by-port" runs `valkey-cli -p {port} SET written-by port`
    Then process "by-port" exits with code 0
    When process "by-url" runs `valkey-cli -u {url} APPEND written-by +url; env -u REDISCLI_AUTH valkey-cli -u "$VALKEY_URL" APPEND written-by +env`
    Then process "by-url" exits with code 0
    When process "outsider" runs `env -u REDISCLI_AUTH valkey-cli -u {url} SET written-by outsider`
    Then process "outsider" exits with code 0
    And the output of process "outsider" contains "NOAUTH"
    When I run `GET written-by`
    Then the reply is "port+url+env"

  Scenario: A program's command line takes ${placeholders}, the older {port} too
    Given a server
    And I run `SET greeting hello`
    And I remember the reply to `GET greeting` as "word"
    When process "cli" runs `valkey-cli -p ${port} SET copied ${word}; echo "old={port} dir=${dir}"; X=1; echo "shell=$${X}"`
    Then process "cli" exits with code 0
    And the output of process "cli" contains "old=${port} dir=${dir}"
    And the output of process "cli" contains "shell=1"
    When I run `GET copied`
    Then the reply is "${word}"

  Scenario: A port leased with the ${free_port} spelling
    Given a server
    When process "web" runs `exec python3 -m http.server ${free_port} --bind 127.0.0.1`
    And process "web" listens on its port
    And I stop process "web"
    Then process "web" was killed by SIGTERM
