"""Exit codes of the `mentor` command: what a scheduler can alert on (docs/exit-codes.md explains each)."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    HELD_BACK = 3
    GATE_FAILED = 3  # the same code: the name the single-stage commands use
    LOCKED = 4
    TERMINATED = 143  # 128 + SIGTERM, as a shell reports a job it stopped


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "every expected school published fresh shortlists",
    ExitCode.FAILED: "an unexpected error; nothing more was published, run.json and OUT/mentor.log say what happened",
    ExitCode.USAGE: "bad command line or input (unknown option, missing or empty exports folder, unreadable settings)",
    ExitCode.HELD_BACK: (
        "one or more schools were held back (missing or broken delivery, a failed data-quality check): they keep "
        "their last good shortlist, marked stale; the other schools published"
    ),
    ExitCode.LOCKED: "another run holds the lock; this one did nothing",
    ExitCode.TERMINATED: "stopped by SIGTERM (a job's time limit): it cleaned up, run.json says where it stopped",
}

EXIT_CODES_HELP = "\n".join(f"{code.value}  {EXIT_CODE_MEANINGS[code]}" for code in ExitCode)
