"""`soldsight map --out FILE.png`: a PCA picture of the stored embeddings, coloured by query, artist or title."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from soldsight.commands.arguments import at_least
from warehouse.connection import open_warehouse
from warehouse.sql_files import sql

NAME = "map"
HELP = ("Draw a 2-D PCA projection of the stored embeddings of one model, coloured by the listing's search "
        "query (or artist/title), to see whether photos of the same album group together.")


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, metavar="FILE.png", help="PNG file to write")
    parser.add_argument("--by", choices=("query", "artist", "title"), default="query",
                        help="label that colours the points (default: query)")
    parser.add_argument("--model-id", help="embedding model id (default: the one with the most vectors)")
    parser.add_argument("--top", type=at_least(1), default=12, metavar="N",
                        help="colour the N most frequent labels; the rest are grey 'other' (default 12)")


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points projected on the first two principal components, and the share of variance each explains."""
    centred = vectors - vectors.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    variance = s**2 / max((s**2).sum(), 1e-12)
    components = vt[:2]
    points = centred @ components.T
    if points.shape[1] < 2:  # one photo, or all identical
        points = np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
        variance = np.pad(variance, (0, 2))
    return points, variance[:2]


def draw(points, labels, variance, title, out: Path, top: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = Counter(labels)
    named = [label for label, _ in counts.most_common(top)]
    fig, ax = plt.subplots(figsize=(11, 7.5), dpi=110)
    others = np.array([label not in named for label in labels])
    if others.any():
        ax.scatter(points[others, 0], points[others, 1], s=14, c="#c8c8c8", alpha=0.7,
                   label=f"other ({others.sum()} photos, {len(counts) - len(named)} labels)")
    cmap = plt.get_cmap("tab20" if len(named) > 10 else "tab10")
    for i, label in enumerate(named):
        mask = np.array([lab == label for lab in labels])
        text = label if len(label) <= 38 else label[:36] + "…"
        ax.scatter(points[mask, 0], points[mask, 1], s=26, color=cmap(i % cmap.N), alpha=0.85,
                   edgecolors="white", linewidths=0.4, label=f"{text} ({mask.sum()})")
    ax.set_xlabel(f"PC1 ({variance[0]:.1%} of variance)")
    ax.set_ylabel(f"PC2 ({variance[1]:.1%} of variance)")
    ax.set_title(title, fontsize=11)
    ax.grid(True, alpha=0.25)
    handles, texts = ax.get_legend_handles_labels()
    if others.any():  # drawn first so it sits underneath, listed last
        handles, texts = handles[1:] + handles[:1], texts[1:] + texts[:1]
    ax.legend(handles, texts, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, title="label (photos)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def run(args, settings) -> int:
    out = Path(args.out)
    with open_warehouse(settings) as con:
        models = con.execute(sql("embedding_models_by_vectors")).fetchall()
        model_id = args.model_id or (models[0][0] if models else None)
        if model_id is None:
            print("soldsight map: no embeddings stored yet; run `soldsight embed` first", file=sys.stderr)
            return 1
        rows = con.execute(sql("embeddings_map"), {"model_id": model_id}).fetchall()
    if len(rows) < 2:
        print(f"soldsight map: {len(rows)} vectors for {model_id}; a map needs at least 2", file=sys.stderr)
        return 1
    column = {"query": 2, "artist": 3, "title": 4}[args.by]
    labels = [row[column] or f"(no {args.by})" for row in rows]
    vectors = np.asarray([row[1] for row in rows], dtype=np.float64)
    points, variance = pca_2d(vectors)
    title = (f"Photo embeddings, PCA to 2-D: {len(rows)} photos coloured by {args.by}\n"
             f"model {model_id}, {len(set(labels))} labels")
    draw(points, labels, variance, title, out, args.top)
    print(f"wrote {out}: {len(rows)} photos of {model_id}, {len(set(labels))} {args.by} labels, "
          f"PC1+PC2 explain {variance.sum():.1%}")
    return 0
