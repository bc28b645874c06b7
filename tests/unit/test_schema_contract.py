"""The exported schema holds the contract's core, and schema.graphql is current."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    EnumTypeDefinitionNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    parse,
    print_ast,
)

from api.schema import build_schema, schema_sdl

ROOT = Path(__file__).resolve().parents[2]
CORE = (ROOT / "tests" / "contract" / "core.graphql").read_text(encoding="utf-8")


def test_schema_file_is_current() -> None:
    assert (ROOT / "schema.graphql").read_text(encoding="utf-8") == schema_sdl(), (
        "schema.graphql drifted from the code: run `creditlink export-schema`"
    )


def test_schema_contains_the_contract_core() -> None:
    schema = build_schema()._schema
    problems: list[str] = []
    for node in parse(CORE).definitions:
        name = node.name.value  # type: ignore[attr-defined]
        actual = schema.type_map.get(name)
        if actual is None:
            problems.append(f"missing type {name}")
            continue
        if isinstance(node, ScalarTypeDefinitionNode):
            continue
        if isinstance(node, EnumTypeDefinitionNode):
            assert isinstance(actual, GraphQLEnumType)
            wanted = {v.name.value for v in node.values or ()}
            if wanted - set(actual.values):
                problems.append(f"enum {name} lacks {sorted(wanted - set(actual.values))}")
            continue
        if isinstance(
            node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode | InterfaceTypeDefinitionNode
        ):
            assert isinstance(actual, GraphQLObjectType | GraphQLInterfaceType), name
            for iface in getattr(node, "interfaces", None) or ():
                if iface.name.value not in {i.name for i in actual.interfaces}:
                    problems.append(f"{name} does not implement {iface.name.value}")
            for field in node.fields or ():
                got = actual.fields.get(field.name.value)
                if got is None:
                    problems.append(f"missing field {name}.{field.name.value}")
                    continue
                if str(got.type) != print_ast(field.type):
                    problems.append(
                        f"{name}.{field.name.value}: {got.type} != {print_ast(field.type)}"
                    )
                for arg in field.arguments or ():
                    got_arg = got.args.get(arg.name.value)
                    if got_arg is None:
                        problems.append(
                            f"missing argument {name}.{field.name.value}({arg.name.value})"
                        )
                    elif str(got_arg.type) != print_ast(arg.type):
                        problems.append(
                            f"{name}.{field.name.value}({arg.name.value}): {got_arg.type} != {print_ast(arg.type)}"
                        )
                    elif (
                        arg.default_value is not None
                        and print_ast(arg.default_value) != "null"
                        and got_arg.default_value is None
                    ):
                        problems.append(
                            f"{name}.{field.name.value}({arg.name.value}) lacks its default"
                        )
            continue
        if isinstance(node, InputObjectTypeDefinitionNode):
            assert isinstance(actual, GraphQLInputObjectType), name
            for field in node.fields or ():
                got_input = actual.fields.get(field.name.value)
                if got_input is None:
                    problems.append(f"missing input field {name}.{field.name.value}")
                elif str(got_input.type) != print_ast(field.type):
                    problems.append(
                        f"{name}.{field.name.value}: {got_input.type} != {print_ast(field.type)}"
                    )
            extra_required = [
                f
                for f, v in actual.fields.items()
                if str(v.type).endswith("!") and f not in {x.name.value for x in node.fields or ()}
            ]
            if extra_required:
                problems.append(f"input {name} adds required fields {extra_required}")
    # only the types of the contract implement Subject; others may come later
    subject = schema.type_map["Subject"]
    assert isinstance(subject, GraphQLInterfaceType)
    implementing = {t.name for t in schema.get_possible_types(subject)}
    assert {"Enterprise", "PublicInstitution", "IndividualBusiness", "Person"} <= implementing
    # the names of the second block that are not built yet are reported, not hidden
    assert not problems, "\n".join(problems)
