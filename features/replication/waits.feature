Feature: Waits that can be trusted
  "The replicas have caught up" means every replica has processed the
  primary's offset as it stood when the step began — not merely that its
  link is up, which is true before any write arrives.

  Scenario: Caught up means every write is there, with no retry
    Given a primary with 2 replicas
    When I run `EVAL "for i = 1, 20000 do redis.call('SET', 'key:' .. i, i) end" 0` on the primary
    And I run `SET last written` on the primary
    Then the replicas have caught up
    When I run `DBSIZE` on replica 1
    Then the reply is the integer 20001
    When I run `GET last` on replica 2
    Then the reply is "written"

  Scenario: Caught up follows writes through a chain
    Given a chain of a primary and 3 replicas
    When I run `INCRBY counter 41` on the primary
    And I run `INCR counter` on the primary
    Then the replicas have caught up
    When I run `GET counter` on replica 3
    Then the reply is "42"

  Scenario: An eventual assertion retries until the value arrives
    Given a primary with 1 replica
    When I run `SET K V` on the primary
    Then replica 1 returns "V" for `GET K`
    And replica 1 has caught up with the primary

  Scenario: The same data on every replica, by digest
    Given a primary with 2 replicas
    And I run `HSET user:1 name "Ada Lovelace" born 1815` on the primary
    And I run `ZADD board 10 alice 20 bob` on the primary
    And I run `SET session token PX 600000` on the primary
    And I run `EVAL "for i = 1, 1000 do redis.call('RPUSH', 'list:' .. (i % 10), i) end" 0` on the primary
    Then all replicas hold the same data as the primary
