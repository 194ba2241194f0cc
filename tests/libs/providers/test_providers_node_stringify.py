"""Our canonical form against Node's own JSON.parse, sort and JSON.stringify on random bodies.

Skipped when no `node` executable is installed; the vectors test the same rules without it.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import pytest
from bwai_providers import parse_json_object
from bwai_providers.nowpayments import canonical_json

NODE = shutil.which("node")

# Deep sort as the NOWPayments docs describe it: keys sorted with the default sort at every
# depth, arrays kept (first form) or turned into index-keyed objects (second form).
_NODE_SCRIPT = r"""
const sortDeep = (value, arraysAsObjects) => {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value) && !arraysAsObjects) return value.map((v) => sortDeep(v, false));
  const out = {};
  for (const key of Object.keys(value).sort()) out[key] = sortDeep(value[key], arraysAsObjects);
  return out;
};
const bodies = JSON.parse(require("fs").readFileSync(0, "utf8"));
const result = bodies.map((text) => {
  const parsed = JSON.parse(text);
  return [JSON.stringify(sortDeep(parsed, false)), JSON.stringify(sortDeep(parsed, true))];
});
process.stdout.write(JSON.stringify(result));
"""

_KEYS = ["a", "b", "B", "_", "10", "2", "0", "01", "-1", "é", "\U0001d11e", "\uffff", "ключ", ""]
_STRINGS = ["", "plain", 'q"uote', "back\\slash", "\x00\x1f\x7f", "a<b>&c/", "é ü", "\U0001f600"]
_NUMBERS = [
    "0",
    "-0",
    "13.0",
    "-2.50",
    "2e-06",
    "1e-7",
    "8.3e-05",
    "0.000001",
    "1e20",
    "1e21",
    "12345678901234567890",
    "4870885867",
    "0.1",
    "123456.789",
    "1E+2",
    "-1.5e-10",
    "5e-324",
]


def _random_value(rng: random.Random, depth: int) -> str:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice(["null", "true", "false"])
    if kind == 1:
        return rng.choice(_NUMBERS)
    if kind == 2:
        return repr(rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-12, 12))
    if kind == 3:
        return json.dumps(rng.choice(_STRINGS), ensure_ascii=rng.random() < 0.5)
    if kind == 4:
        return '"\\ud800 lone"' if rng.random() < 0.5 else str(rng.randint(-(2**60), 2**60))
    if kind == 5:
        return "[" + ",".join(_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))) + "]"
    return _random_object(rng, depth + 1)


def _random_object(rng: random.Random, depth: int) -> str:
    keys = rng.sample(_KEYS, rng.randint(0, 6))
    members = [f"{json.dumps(k)}: {_random_value(rng, depth)}" for k in keys]
    return "{" + ", ".join(members) + "}"


@pytest.mark.skipif(NODE is None, reason="node is not installed; the vectors cover the same rules")
def test_canonical_form_equals_node_stringify() -> None:
    rng = random.Random(20260115)
    bodies = [_random_object(rng, 0) for _ in range(400)]
    assert NODE is not None

    completed = subprocess.run(  # noqa: S603 - fixed script, local interpreter
        [NODE, "-e", _NODE_SCRIPT],
        input=json.dumps(bodies),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    expected = json.loads(completed.stdout)

    for body, (kept, indexed) in zip(bodies, expected, strict=True):
        payload = parse_json_object(body.encode("utf-8"))
        assert canonical_json(payload) == kept, body
        assert canonical_json(payload, arrays_as_objects=True) == indexed, body
