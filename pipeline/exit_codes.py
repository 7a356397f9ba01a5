"""Exit codes of the `mentor` command: what a scheduler can alert on."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    GATE_FAILED = 3
    LOCKED = 4


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "everything ran and the outputs were written",
    ExitCode.FAILED: "an unexpected error; nothing new was published and the log says what happened",
    ExitCode.USAGE: "bad command line or input (unknown option, missing folder, unreadable settings)",
    ExitCode.GATE_FAILED: "a data-quality gate failed; no new shortlist was published, the last good one stays",
    ExitCode.LOCKED: "another run holds the lock; this one did nothing",
}

EXIT_CODES_HELP = "\n".join(f"{code.value}  {EXIT_CODE_MEANINGS[code]}" for code in ExitCode)
