"""Transfer chains between bins: the most negative cycle of a small transfer graph.

When costs are additive per item (an interest group with its activity fixed costs the sum of
its students' preference steps), moving items between bins is a transportation problem, and a
grouping is optimal for it exactly when its *transfer graph* has no negative cycle. Nodes are
the bins plus a slack node; the edge A -> B weighs what the cheapest item of A would cost
extra in B. A cycle moves one item along each edge, so every bin on it gives one item and
takes one (sizes unchanged); a cycle through the slack node is a chain that starts at a bin
with room to shrink and ends at one with room to grow. Pairwise swaps are the 2-cycles;
longer cycles (ejection chains) are what swaps cannot find (Thompson and Orlin's cyclic
exchange neighbourhood). Graphs here have a handful of nodes, so the search is exhaustive.

A bin may also have a cost that depends on how many items it holds (interest mode's size
balance), convex in that count. The slack edges then carry the marginal costs (slack -> A: A
holds one fewer; B -> slack: B holds one more), and the optimality condition still holds: this
is a min-cost flow with convex separable costs, whose optimum is exactly the flow whose
residual graph has no negative cycle.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-9


def best_cycle(w: np.ndarray) -> tuple[float, list[int]]:
    """The most negative simple cycle of the digraph ``w`` (inf: no edge), as its nodes.

    Returns (0.0, []) when there is none. A negative cycle always has a rotation whose partial
    sums are all negative, so a search from every node that drops paths once their sum stops
    being negative still finds every negative cycle.
    """
    n = w.shape[0]
    rows = w.tolist()
    succ = [[b for b in range(n) if b != a and rows[a][b] < np.inf] for a in range(n)]
    best, cycle = -_EPS, []
    for s in range(n):
        stack = [(s, 0.0, [s])]
        while stack:
            a, total, path = stack.pop()
            back = rows[a][s]
            if len(path) > 1 and total + back < best:
                best, cycle = total + back, path
            for b in succ[a]:
                t = total + rows[a][b]
                if t < -_EPS and b != s and b not in path:
                    stack.append((b, t, [*path, b]))
    return (best, cycle) if cycle else (0.0, [])


def transfer_graph(delta: np.ndarray, where: np.ndarray, leave: np.ndarray,
                   join: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge weights and the item behind each edge, slack node last.

    ``delta[i, b]``: extra cost of item i in bin b (inf where it may not go); ``where[i]`` its
    bin; ``leave``/``join`` per bin: the cost of it holding one item fewer/more (inf where it
    may not shrink/grow, 0 where its count costs nothing).
    """
    nb = delta.shape[1]
    masked = np.where(where[:, None, None] == np.arange(nb)[None, :, None],
                      delta[:, None, :], np.inf)  # [i, a, b]
    item = masked.argmin(axis=0)
    w = np.full((nb + 1, nb + 1), np.inf)
    w[:nb, :nb] = np.take_along_axis(masked, item[None], axis=0)[0]
    np.fill_diagonal(w, np.inf)
    w[nb, :nb] = leave
    w[:nb, nb] = join
    return w, item


def chain_moves(cycle: list[int], item: np.ndarray, nb: int) -> list[tuple[int, int]]:
    """(item, destination bin) for each edge of a cycle from :func:`best_cycle`."""
    moves = []
    for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True):
        if a < nb and b < nb:
            moves.append((int(item[a, b]), b))
    return moves


def relaxed_plan_cost(cost: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                      count_cost: np.ndarray | None = None) -> float:
    """Least total cost of putting each item (row) in one bin with lo <= count <= hi per bin.

    ``count_cost[b, k]``, optional, is bin b's own cost when it holds k items (convex in k);
    it is added to the items' costs. Repairs over- and under-full bins from everyone's
    cheapest bin one item at a time along the cheapest transfer chain, then cancels negative
    cycles until there is none, which proves the optimum. Used to rank activity plans in
    interest mode. Returns inf when the counts cannot be met.
    """
    m, nb = cost.shape
    if lo.sum() > m or hi.sum() < m:
        return np.inf
    rows, bins = np.arange(m), np.arange(nb)
    where = cost.argmin(axis=1)
    count = np.bincount(where, minlength=nb)

    def apply(path: list[int], item: np.ndarray) -> None:
        for i, b in chain_moves(path, item, nb):
            count[where[i]] -= 1
            count[b] += 1
            where[i] = b

    # Feasibility first: every repair chain moves one item out of a bin that must shrink (or
    # may) into one that must grow (or may); each cuts the total excess by one.
    for _ in range(2 * m + int(lo.sum()) + 1):
        over, under = count > hi, count < lo
        if not (over.any() or under.any()):
            break
        leave = over if over.any() else count > lo
        join = under if under.any() else count < hi
        delta = cost - cost[rows, where][:, None]
        w, item = transfer_graph(delta, where, np.where(leave, 0.0, np.inf),
                                 np.where(join, 0.0, np.inf))
        path = _shortest_slack_cycle(w)
        if not path:
            return np.inf
        apply(path, item)
    if np.any(count > hi) or np.any(count < lo):
        return np.inf
    # Then optimality: cancel the most negative cycle until there is none (each strictly
    # lowers the cost, so this ends).
    f = np.zeros((nb, m + 2)) if count_cost is None else count_cost
    while True:
        delta = cost - cost[rows, where][:, None]
        below, above = np.maximum(count - 1, 0), np.minimum(count + 1, f.shape[1] - 1)
        leave = np.where(count > lo, f[bins, below] - f[bins, count], np.inf)
        join = np.where(count < hi, f[bins, above] - f[bins, count], np.inf)
        w, item = transfer_graph(delta, where, leave, join)
        _, path = best_cycle(w)
        if not path:
            break
        apply(path, item)
    return float(cost[rows, where].sum() + f[bins, count].sum())


def _shortest_slack_cycle(w: np.ndarray) -> list[int]:
    """Cheapest cycle through the slack node (last): Bellman-Ford from it, back into it."""
    n = w.shape[0]
    s = n - 1
    dist = np.full(n, np.inf)
    dist[s] = 0.0
    pred = np.full(n, -1)
    inner = w.copy()
    inner[:, s] = np.inf  # paths out of slack that do not come back early
    for _ in range(n - 1):
        cand = dist[:, None] + inner
        src = cand.argmin(axis=0)
        best = cand[src, np.arange(n)]
        better = best < dist - _EPS
        if not better.any():
            break
        dist[better] = best[better]
        pred[better] = src[better]
    close = dist + w[:, s]
    close[s] = np.inf
    end = int(np.argmin(close))
    if not np.isfinite(close[end]):
        return []
    path = [end]
    seen = {end}
    while pred[path[-1]] != s:
        nxt = int(pred[path[-1]])
        if nxt < 0 or nxt in seen:
            return []
        seen.add(nxt)
        path.append(nxt)
    return [s, *reversed(path)]
