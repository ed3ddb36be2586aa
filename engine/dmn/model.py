"""A DMN file read into plain objects: the parts of a model the importer maps (item definitions,
input data, decisions with their decision tables or literal expressions) and, for the report,
every other element by id. DMN 1.1 to 1.5 differ in namespace and in a few element names, never in
the parts read here, so elements are found by their local names."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

# The model namespace of each DMN version (the root element's namespace says which it is).
NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}


class DmnError(Exception):
    """A file that is not a DMN model at all (the message says why)."""


@dataclass
class ItemDefinition:
    id: str
    name: str
    type_ref: str | None
    allowed: str | None  # the allowed values' unary tests, as written
    is_collection: bool
    components: list[ItemDefinition] = field(default_factory=list)


@dataclass
class InputData:
    id: str
    name: str
    type_ref: str | None
    label: str | None


@dataclass
class Clause:
    """A decision table's input (``text`` its expression) or output (``name`` its column)."""

    id: str
    name: str | None
    text: str
    type_ref: str | None
    values: str | None  # inputValues / outputValues, as written
    default: str | None = None  # an output's defaultOutputEntry


@dataclass
class Rule:
    id: str
    inputs: list[str]
    outputs: list[str]
    notes: list[str]  # its description and annotation entries


@dataclass
class DecisionTable:
    id: str
    hit_policy: str
    aggregation: str | None
    inputs: list[Clause]
    outputs: list[Clause]
    rules: list[Rule]


@dataclass
class LiteralExpression:
    id: str
    text: str


@dataclass
class Invocation:
    """A boxed invocation: the function it calls (a business knowledge model, by name) and
    each parameter's binding (its FEEL text, None when the binding has no expression)."""

    id: str
    function: str
    bindings: list[tuple[str, str | None]]


@dataclass
class Knowledge:
    """A business knowledge model: a function of ``parameters`` whose body is a literal
    expression or a decision table (``other`` names any other body)."""

    id: str
    name: str
    parameters: list[str]
    body: DecisionTable | LiteralExpression | None
    other: str | None


@dataclass
class Decision:
    id: str
    name: str
    label: str | None
    type_ref: str | None
    required_decisions: list[str]  # ids
    required_inputs: list[str]  # ids
    expression: DecisionTable | LiteralExpression | Invocation | None
    other: str | None  # the element name of an expression the importer does not map
    other_id: str | None
    description: str | None
    language: str | None = None  # an expression language other than FEEL, where one is named


@dataclass
class Element:
    """Any other element of the model, for the report."""

    kind: str
    id: str
    name: str
    text: str | None = None  # a text annotation's text
    source: str | None = None  # an association's ends (element ids)
    target: str | None = None


@dataclass
class Model:
    version: str
    name: str
    label: str | None
    items: dict[str, ItemDefinition]  # by name
    inputs: dict[str, InputData]  # by id
    decisions: dict[str, Decision]  # by id
    others: list[Element]
    knowledge: dict[str, Knowledge] = field(default_factory=dict)  # by id


def read_model(path: Path) -> Model:
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True,
                                                      huge_tree=False)).getroot()
    except (OSError, etree.XMLSyntaxError) as error:
        raise DmnError(f"{path} is not readable XML: {error}") from None
    namespace = etree.QName(root).namespace
    # Some tools write the model's elements in a namespace of their own and only declare
    # DMN's beside it: such a file is read by its elements' names, as the version declared.
    version = NAMESPACES.get(namespace) or next(
        (NAMESPACES[uri] for uri in root.nsmap.values() if uri in NAMESPACES), None)
    if etree.QName(root).localname != "definitions" or version is None:
        raise DmnError(f"{path} is not a DMN model: its root is `{root.tag}`; a DMN 1.1 to 1.5 "
                       "model starts with `<definitions>` in the DMN namespace")
    ns = {"d": namespace or ""}  # "": elements in no namespace at all
    model = Model(version, root.get("name") or path.stem, root.get("label"), {}, {}, {}, [])
    for element in root.findall("d:itemDefinition", ns):
        item = _item(element, ns)
        model.items[item.name] = item
    for element in root.findall("d:inputData", ns):
        variable = element.find("d:variable", ns)
        model.inputs[element.get("id", "")] = InputData(
            element.get("id", ""), element.get("name", ""),
            variable.get("typeRef") if variable is not None else None, element.get("label"))
    default_language = root.get("expressionLanguage")
    for element in root.findall("d:decision", ns):
        decision = _decision(element, ns)
        decision.language = _foreign_language(element, default_language)
        model.decisions[decision.id] = decision
    for element in root.findall("d:businessKnowledgeModel", ns):
        knowledge = _knowledge(element, ns)
        model.knowledge[knowledge.id] = knowledge
    known = {"itemDefinition", "inputData", "decision", "businessKnowledgeModel"}
    for element in root:
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        local = etree.QName(element).localname
        # Diagrams (DMNDI) and vendors' extensions are in other namespaces: not elements of
        # the model's logic.
        if local not in known and element.get("id") and etree.QName(element).namespace == namespace:
            source, target = (element.find(f"d:{end}", ns) for end in ("sourceRef", "targetRef"))
            model.others.append(Element(
                local, element.get("id", ""), element.get("name", ""), _text(element, ns),
                _reference(source) if source is not None else None,
                _reference(target) if target is not None else None))
    return model


def _foreign_language(decision: etree._Element, default: str | None) -> str | None:
    """The first expression language other than FEEL that the decision's expressions are in
    (Camunda 7 allows JUEL, JavaScript, Groovy), or None."""
    for element in decision.iter():
        language = element.get("expressionLanguage") if isinstance(element.tag, str) else None
        if language and "feel" not in language.lower():
            return language
    if default and "feel" not in default.lower():
        return default
    return None


def _text(element: etree._Element | None, ns: dict[str, str]) -> str | None:
    if element is None:
        return None
    found = element.find("d:text", ns)
    return (found.text or "").strip() if found is not None else None


def _item(element: etree._Element, ns: dict[str, str]) -> ItemDefinition:
    type_ref = element.find("d:typeRef", ns)
    return ItemDefinition(
        element.get("id", ""), element.get("name", ""),
        (type_ref.text or "").strip() if type_ref is not None else element.get("typeRef"),
        _text(element.find("d:allowedValues", ns), ns),
        element.get("isCollection") == "true",
        [_item(component, ns) for component in element.findall("d:itemComponent", ns)])


def _reference(element: etree._Element) -> str:
    return (element.get("href") or "").lstrip("#")


def _decision(element: etree._Element, ns: dict[str, str]) -> Decision:
    variable = element.find("d:variable", ns)
    required_decisions, required_inputs = [], []
    for requirement in element.findall("d:informationRequirement", ns):
        for kind, found in (("decision", requirement.find("d:requiredDecision", ns)),
                            ("input", requirement.find("d:requiredInput", ns))):
            if found is not None:
                (required_decisions if kind == "decision" else required_inputs).append(
                    _reference(found))
    expression: DecisionTable | LiteralExpression | Invocation | None = None
    other = other_id = None
    for child in _elements(element):
        local = etree.QName(child).localname
        if (logic := _logic(child, ns)) is not None:
            expression = logic
        elif local == "invocation" and (invocation := _invocation(child, ns)) is not None:
            expression = invocation
        elif local in ("context", "invocation", "relation", "list", "functionDefinition",
                       "conditional", "filter", "for", "every", "some", "iterator"):
            other, other_id = local, child.get("id") or element.get("id", "")
    return Decision(element.get("id", ""), element.get("name", ""), element.get("label"),
                    variable.get("typeRef") if variable is not None else None,
                    required_decisions, required_inputs, expression, other, other_id,
                    (element.findtext("d:description", None, ns) or "").strip() or None)


def _elements(parent: etree._Element) -> list[etree._Element]:
    """The child elements, without comments and processing instructions."""
    return [child for child in parent if isinstance(child.tag, str)]


def _logic(element: etree._Element,
           ns: dict[str, str]) -> DecisionTable | LiteralExpression | None:
    """The logic the importer maps, a decision table or a literal expression; else None."""
    local = etree.QName(element).localname
    if local == "decisionTable":
        return _table(element, ns)
    if local == "literalExpression":
        return LiteralExpression(element.get("id", ""), _text(element, ns) or "")
    return None


def _knowledge(element: etree._Element, ns: dict[str, str]) -> Knowledge:
    logic = element.find("d:encapsulatedLogic", ns)
    parameters, body, other = [], None, None
    if logic is not None:
        parameters = [p.get("name", "") for p in logic.findall("d:formalParameter", ns)]
        if logic.get("kind") not in (None, "FEEL"):
            other = f"function of kind {logic.get('kind')}"
        for child in _elements(logic):
            local = etree.QName(child).localname
            if (found := _logic(child, ns)) is not None:
                body = found
            elif local not in ("formalParameter", "description", "extensionElements"):
                other = other or f"boxed {local}"
    return Knowledge(element.get("id", ""), element.get("name", ""), parameters, body, other)


def _invocation(element: etree._Element, ns: dict[str, str]) -> Invocation | None:
    """An invocation whose function is named by a literal expression, or None."""
    function = element.find("d:literalExpression", ns)
    if function is None:
        return None
    bindings = []
    for binding in element.findall("d:binding", ns):
        parameter = binding.find("d:parameter", ns)
        expression = binding.find("d:literalExpression", ns)
        bindings.append((parameter.get("name", "") if parameter is not None else "",
                         _text(expression, ns) if expression is not None else None))
    return Invocation(element.get("id", ""), _text(function, ns) or "", bindings)


def _table(element: etree._Element, ns: dict[str, str]) -> DecisionTable:
    inputs = []
    for clause in element.findall("d:input", ns):
        expression = clause.find("d:inputExpression", ns)
        inputs.append(Clause(
            clause.get("id", ""), clause.get("label"), _text(expression, ns) or "",
            expression.get("typeRef") if expression is not None else None,
            _text(clause.find("d:inputValues", ns), ns)))
    outputs = [Clause(clause.get("id", ""), clause.get("name"), "", clause.get("typeRef"),
                      _text(clause.find("d:outputValues", ns), ns),
                      _text(clause.find("d:defaultOutputEntry", ns), ns))
               for clause in element.findall("d:output", ns)]
    rules = []
    for rule in element.findall("d:rule", ns):
        notes = [note for note in [(rule.findtext("d:description", None, ns) or "").strip()]
                 if note]
        notes += [text for entry in rule.findall("d:annotationEntry", ns)
                  if (text := _text(entry, ns))]
        rules.append(Rule(rule.get("id", ""),
                          [_text(entry, ns) or "" for entry in rule.findall("d:inputEntry", ns)],
                          [_text(entry, ns) or "" for entry in rule.findall("d:outputEntry", ns)],
                          notes))
    return DecisionTable(element.get("id", ""), element.get("hitPolicy", "UNIQUE"),
                         element.get("aggregation"), inputs, outputs, rules)
