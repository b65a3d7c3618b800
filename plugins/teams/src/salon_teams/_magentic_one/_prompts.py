# ruff: noqa: E501  (prompt text keeps one paragraph per line, as the model reads it)
"""The orchestrator's prompts and the progress-ledger schema.

The wording is Salon's own; the structure follows Magentic-One's (the same steps, placeholders, section
headings and JSON keys), so a model that does well with AutoGen's orchestrator sees the same task here.
Placeholders are ``str.format`` fields: ``{task}``, ``{team}``, ``{facts}``, ``{plan}``, ``{names}``.
"""

from __future__ import annotations

from pydantic import BaseModel

__all__ = [
    "ORCHESTRATOR_FINAL_ANSWER_PROMPT",
    "ORCHESTRATOR_PROGRESS_LEDGER_PROMPT",
    "ORCHESTRATOR_TASK_LEDGER_FACTS_PROMPT",
    "ORCHESTRATOR_TASK_LEDGER_FACTS_UPDATE_PROMPT",
    "ORCHESTRATOR_TASK_LEDGER_FULL_PROMPT",
    "ORCHESTRATOR_TASK_LEDGER_PLAN_PROMPT",
    "ORCHESTRATOR_TASK_LEDGER_PLAN_UPDATE_PROMPT",
    "LEDGER_KEYS",
    "LedgerEntry",
    "LedgerEntryBooleanAnswer",
    "LedgerEntryStringAnswer",
]

ORCHESTRATOR_TASK_LEDGER_FACTS_PROMPT = """You are about to receive a request. Before anyone starts working on it, fill in the short survey below as well as you can. Draw on everything you know: you are excellent at trivia and at puzzles.

The request:

{task}

The survey:

    1. Which facts or figures does the request itself state? There may be none.
    2. Which facts still have to be looked up, and where exactly could each be found? The request may name the sources to use.
    3. Which facts have to be worked out (by reasoning, calculation, simulation or running code)?
    4. Which facts come from memory, intuition or well-founded guesses?

Facts here are concrete things such as names, dates and numbers. Answer under exactly these headings:

    1. GIVEN OR VERIFIED FACTS
    2. FACTS TO LOOK UP
    3. FACTS TO DERIVE
    4. EDUCATED GUESSES

Add no other headings or sections, and do not propose steps or a plan yet.
"""

ORCHESTRATOR_TASK_LEDGER_PLAN_PROMPT = """Good. These are the team members available for the request:

{team}

Using what the team can do and the facts known and unknown so far, write a short plan, as bullet points, for satisfying the original request. Involve only the members whose skills the request actually needs."""

ORCHESTRATOR_TASK_LEDGER_FULL_PROMPT = """
We are working on the following user request:

{task}


The team assembled for it:

{team}


The fact sheet to start from:

{facts}


The plan to follow as closely as possible:

{plan}
"""

ORCHESTRATOR_PROGRESS_LEDGER_PROMPT = """
As a reminder, the request we are working on is:

{task}

The team working on it:

{team}

To decide the next step, answer each of these questions and give your reasoning:

    - Has the request been fully satisfied? (True only when the original request has been completely and successfully addressed; otherwise False.)
    - Are we going round in a loop, repeating the same requests or getting the same answers as before? A loop may stretch over several turns and includes repeating an action (such as scrolling) more than a few times.
    - Are we making progress? (True at the very start or when recent messages add something; False when they show we are stuck or face a serious obstacle, such as a file that cannot be read.)
    - Who should speak next? (choose one of: {names})
    - What instruction or question should that team member get? (Address them directly and include everything they need to know.)

Reply with pure JSON that follows this schema exactly. It must parse as it is. Output NOTHING except the JSON and keep to the schema:

    {{
        "is_request_satisfied": {{
            "reason": string,
            "answer": boolean
        }},
        "is_in_loop": {{
            "reason": string,
            "answer": boolean
        }},
        "is_progress_being_made": {{
            "reason": string,
            "answer": boolean
        }},
        "next_speaker": {{
            "reason": string,
            "answer": string (one of: {names})
        }},
        "instruction_or_question": {{
            "reason": string,
            "answer": string
        }}
    }}
"""

ORCHESTRATOR_TASK_LEDGER_FACTS_UPDATE_PROMPT = """Remember, the task we are solving is:

{task}

We are not progressing as well as we hoped, but we have probably learned something along the way. Rewrite the fact sheet below so it includes whatever new information could help. You may, for instance, add new guesses or promote an educated guess to a verified fact when the evidence supports it; any section may change, and several may. This is a good moment to revise the educated guesses in particular, so add or change at least one of them and explain why.

The current fact sheet:

{facts}
"""

ORCHESTRATOR_TASK_LEDGER_PLAN_UPDATE_PROMPT = """Explain briefly what went wrong in the last attempt (its root cause). Then write a new plan that works around the earlier obstacles, with steps or hints that avoid making the same mistakes again. Keep the plan short and in bullet points, and use only this team (nobody else can be contacted):

{team}
"""

ORCHESTRATOR_FINAL_ANSWER_PROMPT = """
The task we were working on:
{task}

The task is now complete.

The messages above are the conversation in which the team completed it.

Using the information gathered there, give the final answer to the original request, phrased as a reply to the user.
"""

LEDGER_KEYS = (
    "is_request_satisfied",
    "is_progress_being_made",
    "is_in_loop",
    "instruction_or_question",
    "next_speaker",
)
"""The keys a progress ledger must have, each an object with ``reason`` and ``answer``."""


class LedgerEntryBooleanAnswer(BaseModel):
    """A yes/no ledger question: the model's reasoning and its answer."""

    reason: str
    answer: bool


class LedgerEntryStringAnswer(BaseModel):
    """A free-text ledger question: the model's reasoning and its answer."""

    reason: str
    answer: str


class LedgerEntry(BaseModel):
    """The progress ledger, as a structured-output schema for models that support one."""

    is_request_satisfied: LedgerEntryBooleanAnswer
    is_in_loop: LedgerEntryBooleanAnswer
    is_progress_being_made: LedgerEntryBooleanAnswer
    next_speaker: LedgerEntryStringAnswer
    instruction_or_question: LedgerEntryStringAnswer
