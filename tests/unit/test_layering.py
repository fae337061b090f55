"""Domain packages stay free of the web layer (DESIGN §2): only entrypoints (tasks.py) may use Flask."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_PACKAGES = (
    "core",
    "catalog",
    "stores",
    "accounts",
    "inventory",
    "orders",
    "search",
    "traceability",
    "programme",
)
#: Flask-aware by design: the db handle and Celery task entrypoints.
ENTRYPOINTS = {"core/db.py"}
WEB_MODULES = ("flask", "flask_", "apiflask", "storefront", "core.db")


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def domain_modules():
    for package in DOMAIN_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if path.name != "tasks.py" and relative not in ENTRYPOINTS:
                yield relative


def test_the_check_sees_a_web_import():
    assert "flask_sqlalchemy" in set(imported_modules(ROOT / "core/db.py"))


@pytest.mark.parametrize("module", list(domain_modules()))
def test_domain_modules_do_not_import_the_web_layer(module):
    web = [name for name in imported_modules(ROOT / module) if name == "flask" or name.startswith(WEB_MODULES)]
    assert web == [], f"{module} imports {web}"


#: Imports point one way (DESIGN §2): storefront → programme → {orders, search, traceability} → inventory
#: → {stores, catalog} → core.
LOWER_LAYERS_MAY_NOT_IMPORT = {
    "core": ("catalog", "stores", "accounts", "inventory", "orders", "search", "traceability", "programme"),
    "catalog": ("inventory", "orders", "search", "traceability", "programme"),
    "stores": ("inventory", "orders", "search", "traceability", "programme"),
    "accounts": ("inventory", "orders", "search", "traceability", "programme"),
    "inventory": ("orders", "search", "traceability", "programme"),
    "orders": ("traceability", "programme"),
    "search": ("traceability", "programme"),
    "traceability": ("programme",),
}


@pytest.mark.parametrize("module", [m for m in domain_modules() if m.split("/")[0] in LOWER_LAYERS_MAY_NOT_IMPORT])
def test_imports_point_down_the_layers(module):
    higher = LOWER_LAYERS_MAY_NOT_IMPORT[module.split("/")[0]]
    upward = [name for name in imported_modules(ROOT / module) if name.split(".")[0] in higher]
    assert upward == [], f"{module} imports {upward}, a layer above it"
