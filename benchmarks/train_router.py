"""Train the router's classifier (os1/skills/classifier.py) and write it into the package.

    python benchmarks/train_router.py [TSV] [--out PATH]

TSV is in HWU64's format (default: $OS1_SHARED_DATA/intents/train.tsv). Each line's intent becomes a skill
family's name or "other" (`intent_map.training_label`). The result goes to src/os1/skills/router_model.json
(`--out` elsewhere), with the sha256 of the TSV, so `skills_router.py` can tell when it scores the classifier's
own training data. The package's own lines of companion talk (`os1/skills/data/conversation.txt`: "my list of
worries is long", "today was a hard day") are learnt as "other" beside it.
Last line: {"lines", "labels", "features", "out"}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from os1.skills.classifier import MODEL_FILE, Classifier
from os1.skills.intent_map import training_examples
from skills_router import default_tsv, read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tsv", nargs="?", type=Path, default=default_tsv())
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args()
    rows = read(args.tsv)
    digest = hashlib.sha256(args.tsv.read_bytes()).hexdigest()
    model = Classifier.train(training_examples(rows), source=digest)
    model.save(args.out)
    features = len({f for row in model.weights.values() for f in row})
    print(json.dumps({"lines": len(rows), "labels": sorted(model.bias), "features": features, "out": str(args.out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
