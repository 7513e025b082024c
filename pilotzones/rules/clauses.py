"""The contract's clause codes (R1-R11, §3) in words a county clerk can act on.

Errors keep their code (the database, `--json` and tests read it); what a clerk reads names the
rule in words instead, with the programme's own document for the rules it sets (the rubric).
"""

from __future__ import annotations

# Programme-neutral words: a county of any programme reads these.
_WORDS = {
    "§3": "报送文件的格式和填写要求",
    "R1": "本方案所辖县级行政区划的范围",
    "R2": "本年度参加监测评价的名单",
    "R3": "指标分值的规定（0至该指标满分）",
    "R10": "候补推荐和评审的规定",
    "R11": "一份文件只报送一个单位、有错整份退回的规定",
    # Not a clause of the contract's evaluation rules: the yellow card's 限期整改 (issue 14).
    "RECT": "黄牌限期整改的规定",
}
# Rules whose substance the programme's own document sets (weights, items, decimals).
_PROGRAMME_DOCUMENT = frozenset({"R3"})


def in_words(code: str, document: str = "") -> str:
    """The rule `code` as a clerk can look it up (what follows 依据); the code itself when it has no words."""
    words = _WORDS.get(code)
    if words is None:
        return code
    if document and code in _PROGRAMME_DOCUMENT:
        return f"《{document}》{words}"
    return words
