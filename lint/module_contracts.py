"""An import-linter contract for civicloop's modules that needs no edit when a module
is added: every direct subpackage of `package` that is not part of the platform is a
module, and

- no module imports another module (directly or through a chain);
- no platform package (core, notify, config, api, web) imports a module;
- no module imports a platform package listed in `above_modules` (config, api, web).

Used from pyproject.toml as `contract_types = ["modules: lint.module_contracts.ModulesContract"]`.
"""

from __future__ import annotations

from typing import Any

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class ModulesContract(Contract):
    package = fields.StringField()
    platform = fields.ListField(subfield=fields.StringField())
    above_modules = fields.ListField(subfield=fields.StringField(), required=False)
    ignore_imports = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        package = str(self.package)  # type: ignore[attr-defined]
        platform = {str(p) for p in self.platform}  # type: ignore[attr-defined]
        above = {str(p) for p in (self.above_modules or [])}  # type: ignore[attr-defined]
        for line in self.ignore_imports or []:  # type: ignore[attr-defined]
            importer, _, imported = str(line).partition(" -> ")
            if graph.direct_import_exists(importer=importer.strip(), imported=imported.strip()):
                graph.remove_import(importer=importer.strip(), imported=imported.strip())
        modules = sorted(m for m in graph.find_children(package) if m not in platform)
        broken: list[dict[str, Any]] = []

        def forbid(importer: str, imported: str, rule: str) -> None:
            chain = graph.find_shortest_chain(importer=importer, imported=imported, as_packages=True)
            if chain:
                broken.append({"rule": rule, "chain": list(chain)})

        for a in modules:
            for b in modules:
                if a != b:
                    forbid(a, b, f"{a} must not import another module ({b})")
            for p in sorted(above):
                forbid(a, p, f"{a} must not import {p} (modules → core → notify)")
        for p in sorted(platform):
            for m in modules:
                forbid(p, m, f"{p} must not import the module {m}")
        return ContractCheck(kept=not broken, metadata={"broken": broken, "modules": modules})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            output.print_error(item["rule"], bold=True)
            output.new_line()
            output.indent_cursor()
            output.print_error(" -> ".join(item["chain"]), bold=False)
            output.new_line()
