"""Would a calibrated probability per bubble decide better than the threshold cascade?

Issue 12 asks whether every decision should carry a calibrated probability
(fitted on the measures already stored) with one abstention threshold,
instead of ``omr/detect/decide.py``'s cascade of hand-set thresholds. This
script answers with numbers; it changes nothing in the reader.

For every answer-block and booklet-group bubble of every sheet read, it takes
the measures the store keeps (darkness, ring, cover, the sheet's levels) and
the truth (the simulator's intended answers, or open-mcr's accepted readings),
fits a logistic model of "this bubble is a meant mark" on the training sets,
and on the held-out sets compares, item by item:

- the cascade as it runs: items sent to a person, items read with confidence
  and wrong (silent errors);
- the model: an item's answer is the options with p >= 0.5; it goes to a
  person when any option has p between tau and 1 - tau, swept over tau.

Also the model's calibration on held-out bubbles (Brier score, expected
calibration error over ten bins), and the review rate at which the model
reaches zero silent errors on each set, if it does.

Usage (each SET a session folder holding ``out/`` and ``truth.json``)::

    python bench/decision_model.py --train S1 --train S2 --test S3 --test S4 [--open-mcr]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from omr.forms import find_form, load_form
from omr.records import ItemState, SheetRead
from omr.store import STORE_NAME, Store

FEATURES = (
    "dark",  # darkness above the sheet's blank level
    "dark/mark",  # ... as a share of the sheet's typical mark
    "ring",  # ring darkness above the field's blank rings
    "cover",  # dark share of the inside above the field's blanks
    "share",  # darkness as a share of the item's darkest option
    "other",  # the item's darkest other option, above blank
    "noise",  # the sheet's blank noise
    "dark^2",
    "dark*ring",
    "dark*cover",
)


@dataclass
class Item:
    """One question (or the booklet group) of one sheet: features per option and the truth."""

    where: str
    x: np.ndarray  # (K, F)
    truth: np.ndarray  # (K,) bool: meant marks
    cascade_unsure: bool
    cascade_value: frozenset[str]
    labels: tuple[str, ...]


def _features(field, levels: dict) -> np.ndarray:
    """(I, K, F) features of one field from the stored measures."""
    d = np.asarray(field.darkness, float) - levels["blank"]
    ring = np.asarray(field.ring, float) if field.ring else np.zeros_like(d)
    cover = np.asarray(field.cover, float) if field.cover else np.zeros_like(d)
    empty = d < levels["empty_below"] - levels["blank"]
    base_ring = np.median(ring[empty]) if empty.sum() >= 3 else 0.0
    base_cover = np.median(cover[empty]) if empty.sum() >= 3 else 0.0
    ring, cover = ring - base_ring, cover - base_cover
    mark = levels.get("mark")
    mark = mark if mark and np.isfinite(mark) and mark > 0.05 else 0.4
    top = d.max(axis=1, keepdims=True)
    share = d / np.maximum(top, 0.02)
    other = np.empty_like(d)
    for k in range(d.shape[1]):
        other[:, k] = np.delete(d, k, axis=1).max(axis=1) if d.shape[1] > 1 else 0.0
    noise = np.full_like(d, levels["noise"])
    cols = [d, d / mark, ring, cover, share, other, noise, d * d, d * ring, d * cover]
    return np.stack(cols, axis=-1)


def _items_of(
    read: SheetRead, wanted: dict[str, list[str]], prefix: str, option_labels: dict
) -> list[Item]:
    out = []
    for name, answers in wanted.items():
        field = read.fields.get(name)
        if field is None or not field.darkness:
            continue
        x = _features(field, read.levels)
        labels = tuple(option_labels[name])
        for i, (item, want) in enumerate(zip(field.items, answers, strict=True)):
            if want is None:  # a mark the scan lost: no fair truth
                continue
            truth = np.array([lab in want for lab in labels])
            out.append(
                Item(
                    f"{prefix}{read.sheet_id} {name} q{i + 1}",
                    x[i],
                    truth,
                    item.state == ItemState.unsure,
                    frozenset(item.value),
                    labels,
                )
            )
    return out


def simulated_items(folder: Path) -> list[Item]:
    """Items of a simulated session: the stored reads against ``truth.json``."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))["sheets"]
    with Store(folder / "out" / STORE_NAME) as store:
        reads = store.reads()
        form = find_form(store.meta().get("form_ref", ""))
    option_labels = {name: f.option_labels for name, f in form.layout.fields.items()}
    items: list[Item] = []
    for read in reads:
        t = truth.get(read.sheet_id)
        if t is None or not read.ok or t.get("misregistered"):
            continue
        lost = {
            (m["field"], m["item"])
            for m in t.get("marks", [])
            if m.get("visible") is False and m.get("option")
        }
        wanted = {
            name: [None if (name, i) in lost else a for i, a in enumerate(answers)]
            for name, answers in t.get("answers", {}).items()
        }
        if "group" in read.fields:
            wanted["group"] = [t["group_marks"]]
        items += _items_of(read, wanted, f"{folder.name}:", option_labels)
    return items


def open_mcr_items() -> list[Item]:
    """Items of open-mcr's real scans (75q-core-1 and -2), read in process."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import test_real_scans as real  # the suite's own reading of these scans

    if not (real.DATA / "ground_truth_long.csv").is_file():
        return []
    items: list[Item] = []
    truth = real._truth()
    form = load_form(real.FORM)
    option_labels = {name: f.option_labels for name, f in form.layout.fields.items()}
    for test in ("75q-core-1", "75q-core-2"):
        for image in real._images(test):
            read = real._sheet(test, image)
            if read.problem:
                continue
            expected = truth[(test, image)]
            n = len(read.fields["answers"].items)
            answers = [real._expected(expected.get(f"Q{q}", "?")) for q in range(1, n + 1)]
            wanted = {"answers": [None if a == "?" else a for a in answers]}
            if "Test Form Code" in expected:
                wanted["group"] = [real._expected(expected["Test Form Code"])]
            items += _items_of(read, wanted, f"{test}/", option_labels)
    return items


def _stack(items: list[Item]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([i.x for i in items]), np.concatenate([i.truth for i in items])


def fit(items: list[Item], l2: float = 1e-3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logistic regression on standardised features: (weights, mean, scale)."""
    x, y = _stack(items)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    yf = y.astype(float)

    def loss(w):
        s = z @ w
        nll = np.sum(np.logaddexp(0, s) - yf * s) / len(z)
        p = 1 / (1 + np.exp(-s))
        grad = z.T @ (p - yf) / len(z) + l2 * np.r_[0, w[1:]]
        return nll + 0.5 * l2 * np.sum(w[1:] ** 2), grad

    w = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B").x
    return w, mean, scale


def predict(model, x: np.ndarray) -> np.ndarray:
    w, mean, scale = model
    s = np.column_stack([np.ones(len(x)), (x - mean) / scale]) @ w
    return 1 / (1 + np.exp(-s))


def calibration(model, items: list[Item]) -> dict:
    """Brier score and expected calibration error (10 equal-width bins) on held-out bubbles."""
    x, y = _stack(items)
    p = predict(model, x)
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(
        abs(p[bins == b].mean() - y[bins == b].mean()) * (bins == b).mean()
        for b in range(10)
        if (bins == b).any()
    )
    return {"bubbles": len(y), "brier": float(np.mean((p - y) ** 2)), "ece": float(ece)}


def outcomes(model, items: list[Item], taus) -> dict:
    """The cascade's and the model's review share and silent errors on ``items``."""
    cascade_review = sum(i.cascade_unsure for i in items)
    cascade_silent = sum(
        not i.cascade_unsure
        and i.cascade_value != frozenset(lab for lab, t in zip(i.labels, i.truth, strict=True) if t)
        for i in items
    )
    rows = []
    ps = [predict(model, i.x) for i in items]
    for tau in taus:
        review = silent = 0
        for item, p in zip(items, ps, strict=True):
            if ((p > tau) & (p < 1 - tau)).any():
                review += 1
            elif not np.array_equal(p >= 0.5, item.truth):
                silent += 1
        rows.append({"tau": tau, "review": review, "silent": silent})
    # The model as a second judge: items the cascade reads with confidence but
    # the model reads otherwise, with p on the other side of 0.5 by at least 0.45.
    disagree = sum(
        not i.cascade_unsure
        and frozenset(lab for lab, q in zip(i.labels, p, strict=True) if q >= 0.5)
        != i.cascade_value
        and (np.abs(p - 0.5) >= 0.45).all()
        for i, p in zip(items, ps, strict=True)
    )
    return {
        "items": len(items),
        "cascade": {"review": cascade_review, "silent": cascade_silent},
        "model": rows,
        "confident_disagreements": disagree,
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", action="append", type=Path, default=[])
    ap.add_argument("--test", action="append", type=Path, default=[])
    ap.add_argument("--open-mcr", action="store_true", help="Also test on open-mcr's real scans.")
    ap.add_argument("--json", type=Path, help="Write the figures here as JSON.")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    train = [i for folder in args.train for i in simulated_items(folder)]
    model = fit(train)
    taus = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 1e-3, 1e-4, 1e-5, 1e-6)
    sets = {folder.name: simulated_items(folder) for folder in args.test}
    if args.open_mcr:
        sets["open-mcr core-1+2 (real)"] = open_mcr_items()
    report = {
        "features": FEATURES,
        "train_items": len(train),
        "weights": dict(zip(("bias", *FEATURES), np.round(model[0], 3).tolist(), strict=True)),
    }
    for name, items in sets.items():
        if not items:
            continue
        report[name] = {**outcomes(model, items, taus), "calibration": calibration(model, items)}
        r = report[name]
        c = r["cascade"]
        print(f"\n{name}: {r['items']} items; calibration {r['calibration']}")
        print(f"  cascade     review {c['review']:5d} ({c['review'] / r['items']:.2%})"
              f"  silent {c['silent']}; the model disagrees surely on "
              f"{r['confident_disagreements']} of the cascade's confident items")  # fmt: skip
        for row in r["model"]:
            print(f"  tau {row['tau']:<7g} review {row['review']:5d} "
                  f"({row['review'] / r['items']:.2%})  silent {row['silent']}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=int), encoding="utf-8")


if __name__ == "__main__":
    main()
