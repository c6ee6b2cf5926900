"""The servo the benchmark measures: one step that does nothing."""
from valkey_bdd_servo import Context, Servo

servo = Servo()


@servo.step("does nothing with {int}")
def nothing(ctx: Context, n: int) -> None:
    pass


servo.run()
