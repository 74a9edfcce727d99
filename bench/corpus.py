"""Synthetic but realistic comment traffic for the benchmarks.

Mostly ordinary comments, with a minority of insults, threats, obscenity and spam carrying
phone numbers and links, spread over articles with varied tags (including the sensitive
``sexual-offences`` and ``active-proceedings``). The mix is drawn from a seeded random
generator; ids carry a per-run prefix so every run submits new comments.
"""

from __future__ import annotations

import random
from typing import Any

# (kind, share of the traffic); the shares add up to 1.
MIX: tuple[tuple[str, float], ...] = (
    ("ordinary", 0.74),
    ("insult", 0.08),
    ("spam", 0.07),
    ("threat", 0.04),
    ("obscene", 0.04),
    ("personal-data", 0.03),
)

ARTICLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Council approves new cycle lanes on the high street", ("local", "transport")),
    ("Budget 2026: what the chancellor's plans mean for you", ("politics", "economy")),
    ("United sign striker on a three-year deal", ("sport", "football")),
    ("Man charged after town centre stabbing", ("crime", "active-proceedings")),
    ("Teacher jailed for historic sexual offences", ("crime", "sexual-offences", "courts")),
    ("Hospital waiting lists at a record high", ("health", "nhs")),
    ("Local bakery wins national award", ("local", "business", "food")),
    ("Roadworks to close bypass for six weeks", ("local", "transport")),
    ("Trial of former councillor opens at crown court", ("courts", "active-proceedings")),
    ("Heatwave warning issued for the weekend", ("weather",)),
    ("Opinion: the housing crisis needs bolder answers", ("opinion", "housing", "politics")),
    ("School results: how every school in the county did", ("education", "local")),
    ("Festival line-up announced", ("culture", "music")),
    ("Factory closure puts 300 jobs at risk", ("business", "economy", "local")),
    ("Cricket club celebrates 150 years", ()),
)

ORDINARY = (
    "I think the council has got this one right for once. {tail}",
    "Does anyone know when the consultation closes? I'd like to send in my views.",
    "Completely disagree with the author here. {tail}",
    "My kids go to that school and the teachers are brilliant. {tail}",
    "This has been coming for years, nobody listened to the residents.",
    "Great news for the town, well done to everyone involved!",
    "Interesting article, but it leaves out the cost to taxpayers. {tail}",
    "We need more investment in public transport, not less. {tail}",
    "I remember when this street was full of shops. Sad to see it now.",
    "Not sure the numbers add up, the report says something different. {tail}",
    "Fair play to them, that's a huge achievement for a small club.",
    "Can the paper follow up on this in a few months? I'd like to know how it turns out.",
)
TAILS = (
    "Let's see what happens next.",
    "Just my two pence.",
    "The figures in the second paragraph are worth a read.",
    "Hopefully the new plan is better than the last one.",
    "",
)
INSULTS = (
    "You are a complete idiot and so is everyone who voted for this.",
    "What a pathetic excuse for a journalist, you useless moron.",
    "Only a brain-dead clown would write rubbish like this.",
    "Shut up you stupid pig, nobody cares what you think.",
)
THREATS = (
    "I know where you live and I will kill you.",
    "Someone should burn his house down with him inside it.",
    "Keep writing this and you'll get a knife in the back, I'll make sure of it.",
)
OBSCENE = (
    "What a load of f***ing s*** this is, total b******s.",
    "This council is full of fucking wankers.",
)
SPAM = (
    "Make £500 a day from home!!! Ring {phone} now or visit {link}",
    "Cheap loans approved in minutes {link} call {phone}",
    "I earned $9000 last month working online, see how at {link}",
)
PERSONAL_DATA = (
    "He lives at 14 Acacia Avenue, his number is {phone}, go and tell him what you think.",
    "Email her directly on jane.doe{n}@example.com and let her know.",
)
TEMPLATES: dict[str, tuple[str, ...]] = {
    "ordinary": ORDINARY, "insult": INSULTS, "threat": THREATS, "obscene": OBSCENE,
    "spam": SPAM, "personal-data": PERSONAL_DATA,
}


def _fill(template: str, rng: random.Random) -> str:
    """Fill a template's placeholders with random tails, phone numbers and links."""
    return template.format(
        tail=rng.choice(TAILS),
        phone=f"07700 9{rng.randrange(100000):05d}",
        link=f"www.{rng.choice(('cash-now', 'quick-loan', 'earn-fast'))}{rng.randrange(99)}.biz",
        n=rng.randrange(1000),
    ).strip()


def comment(rng: random.Random, comment_id: str, run_prefix: str) -> dict[str, Any]:
    """One comment body for ``POST /v1/comments``, of a kind drawn from ``MIX``."""
    kinds, weights = zip(*MIX, strict=True)
    kind = rng.choices(kinds, weights)[0]
    article_index = rng.randrange(len(ARTICLES))
    title, tags = ARTICLES[article_index]
    return {
        "id": comment_id,
        "article": {"id": f"{run_prefix}-a{article_index}", "title": title, "tags": list(tags)},
        "author": {"id": f"{run_prefix}-u{rng.randrange(400)}"},
        "text": _fill(rng.choice(TEMPLATES[kind]), rng),
    }


def comments(count: int, run_prefix: str, seed: int) -> list[dict[str, Any]]:
    """``count`` comment bodies with ids ``<run_prefix>-c<n>``."""
    rng = random.Random(seed)
    return [comment(rng, f"{run_prefix}-c{n}", run_prefix) for n in range(count)]
