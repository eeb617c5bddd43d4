from functools import cache
from pathlib import Path

LIST = Path(__file__).with_name("free_mail_domains.txt")


@cache
def free_mail_domains() -> frozenset[str]:
    lines = LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def is_free_mail(domain: str) -> bool:
    return domain.lower() in free_mail_domains()
