// The servo the benchmark measures: one step that does nothing.
"use strict";
const { Servo } = require("../node");

const servo = new Servo();
servo.step("does nothing with {int}", () => {});
servo.run();
