"""Total holdings in an ownership graph by the closed form T = A (I - A)^-1, computed
exactly over the rationals: the reference the ownership solver is compared with."""

from __future__ import annotations

from fractions import Fraction


def closed_form(n: int, edges: dict[tuple[int, int], Fraction]) -> list[list[Fraction]]:
    """T = A (I - A)^-1 by exact Gauss-Jordan inversion over the rationals."""
    a = [[edges.get((i, j), Fraction(0)) for j in range(n)] for i in range(n)]
    m = [[(Fraction(1) if i == j else Fraction(0)) - a[i][j] for j in range(n)] for i in range(n)]
    inv = [[Fraction(1) if i == j else Fraction(0) for j in range(n)] for i in range(n)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if m[r][col] != 0)
        m[col], m[pivot] = m[pivot], m[col]
        inv[col], inv[pivot] = inv[pivot], inv[col]
        p = m[col][col]
        m[col] = [v / p for v in m[col]]
        inv[col] = [v / p for v in inv[col]]
        for r in range(n):
            if r != col and m[r][col] != 0:
                f = m[r][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
                inv[r] = [x - f * y for x, y in zip(inv[r], inv[col], strict=True)]
    return [
        [sum((a[i][k] * inv[k][j] for k in range(n)), Fraction(0)) for j in range(n)]
        for i in range(n)
    ]
