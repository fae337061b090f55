"""Words one edit apart, for typo tolerance on the built-in index (the cluster's term suggester finds the same)."""


def deletions(word: str) -> set[str]:
    """`word` and every word it gives with one letter taken out ("mamm" → {"mamm", "amm", "mmm", "mam"})."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """One letter wrong, missing, extra, or two neighbours swapped (Damerau), or the same word."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        differ = [i for i in range(len(a)) if a[i] != b[i]]
        return len(differ) == 1 or (
            len(differ) == 2
            and differ[1] == differ[0] + 1
            and a[differ[0]] == b[differ[1]]
            and a[differ[1]] == b[differ[0]]
        )
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
