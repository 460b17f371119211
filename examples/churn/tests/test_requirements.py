"""The pins: the scikit-learn that pickles a model is the one that unpickles it."""

from conftest import ROOT


def pins(name: str) -> dict[str, str]:
    result = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-r"):
            package, version = line.split("==")
            result[package.lower()] = version
    return result


def test_trainer_and_server_pin_the_same_versions():
    trainer, server = pins("requirements-trainer.txt"), pins("requirements-server.txt")
    assert {"scikit-learn", "numpy", "scipy", "joblib"} <= set(trainer)
    assert {p: server.get(p) for p in trainer} == trainer
    assert server["mlserver"] == server["mlserver-sklearn"] == "1.7.1"


def test_every_requirement_is_pinned_exactly():
    for name in ("requirements-trainer.txt", "requirements-server.txt", "requirements-test.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            assert not line or line.startswith("-r ") or line.count("==") == 1, (name, line)
    assert pins("requirements-traffic.txt") == {}
