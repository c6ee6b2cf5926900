// Types of valkey-bdd-servo (servo protocol v1), written by hand beside index.js.

/** The protocol version this library speaks. */
export declare const PROTOCOL: 1;
/** The library's version. */
export declare const VERSION: string;

/** A mistake in how the servo is set up (a bad pattern, a pattern registered twice). */
export declare class ServoError extends Error {}

/** A server of the scenario, as the harness started it. */
export interface Server {
  name: string;
  host: string;
  port: number;
  tls: boolean;
  role: string | null;
}

/** The scenario this servo was started for. */
export interface Scenario {
  name: string;
  feature: string;
  line: number;
  tags: string[];
  /** role → implementation of this run of the scenario */
  combination: Record<string, string>;
}

/** What a step function gets: the step, the scenario's servers and a log. */
export interface Context {
  /** The sentence without `the "<role>" process `: what the patterns match. */
  text: string;
  sentence: string;
  keyword: string;
  /** `features/orders.feature:14` */
  location: string;
  /** Rows of cells, or null. */
  table: string[][] | null;
  docstring: string | null;
  /** Every server of the scenario, by the name the scenario uses. */
  servers: Record<string, Server>;
  cluster: { seeds: string[] } | null;
  password: string | null;
  username: string | null;
  tls: { ca?: string; cert?: string; key?: string } | null;
  scenario: Scenario;
  role: string;
  implementation: string;
  /** Kept for the whole scenario (the servo runs one scenario): a place for clients, ids. */
  state: Record<string, any>;
  /** Adds a line (or several) to the step's log, shown under the step in the reports. */
  log(line: string): void;
  /** The server of that name; without one `default`, else the only server. */
  server(name?: string): Server;
}

/** A step function: throw (or reject) to fail the step. */
export type StepFunction = (ctx: Context, ...args: any[]) => void | Promise<void>;

/** The steps of one role, and the loop that serves them to the harness. */
export declare class Servo {
  constructor(name?: string);
  /**
   * Registers a step for a pattern: `{int}` and `{float}` arrive as numbers, `{word}`,
   * `{string}` (without its quotes) and `{}` as strings; the rest of the pattern is literal
   * and it matches the whole sentence.
   */
  step(pattern: string, fn: StepFunction, description?: string): this;
  /**
   * Connects to $VALKEY_BDD_SERVO and serves until `shutdown`, then exits 0; with
   * `{ exit: false }` it resolves to true instead. Resolves false (or exits 1) when the
   * harness closed the connection without `shutdown`.
   */
  run(options?: { exit?: boolean }): Promise<boolean>;
}

/** Compiles a pattern to an anchored regex and the converters of its parameters. */
export declare function compilePattern(pattern: string): { regex: RegExp; converters: Array<(text: string) => unknown> };
