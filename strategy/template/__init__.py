"""The strategy template: JSON schema, validation and the validated ``Template`` object."""

from strategy.template.model import SCHEMA_VERSION, TIMEFRAMES, Component, Template
from strategy.template.schema import TEMPLATE_SCHEMA
from strategy.template.validate import TemplateError, validate_template

__all__ = [
    "SCHEMA_VERSION",
    "TEMPLATE_SCHEMA",
    "TIMEFRAMES",
    "Component",
    "Template",
    "TemplateError",
    "validate_template",
]
