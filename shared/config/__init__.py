"""The one config file (LEADRELAY_CONFIG, YAML): sources, rules, stages, teams, reps."""

from shared.config.loader import ConfigError, load_config, parse_config
from shared.config.schema import (
    LeadRelayConfig,
    QualificationConfig,
    RepConfig,
    RoutingConfig,
    RuleConfig,
    TeamConfig,
)

__all__ = [
    "ConfigError",
    "LeadRelayConfig",
    "QualificationConfig",
    "RepConfig",
    "RoutingConfig",
    "RuleConfig",
    "TeamConfig",
    "load_config",
    "parse_config",
]
