"""watcher's settings: ``watcher.toml`` read, checked and resolved.

The values and their checks are in :mod:`.values`, one model per section in
:mod:`.sections`, the whole :class:`Config` in :mod:`.model`, where files are
found in :mod:`.paths`, and reading a file with its one-line mistakes in
:mod:`.loading`.
"""

from watcher.config.loading import load_config, parse_config, warn_if_readable
from watcher.config.model import Config
from watcher.config.paths import (
    DEFAULT_TOPIC,
    ENV_CONFIG,
    default_state_dir,
    find_config,
    shipped_topic_path,
)
from watcher.config.sections import (
    WEEKDAYS,
    AppriseChannel,
    ArticleSettings,
    CheckSettings,
    DaemonSettings,
    EmailChannel,
    FactSettings,
    FetchPolicy,
    HttpSettings,
    NotifySettings,
    Routing,
    SlackChannel,
    Source,
    SourceKind,
    StateSettings,
    StorySettings,
    WebSettings,
)
from watcher.config.values import (
    DEFAULT_LISTEN,
    ConfigError,
    check_http_url,
    is_loopback,
    parse_duration,
    parse_listen,
)

__all__ = [
    "DEFAULT_LISTEN",
    "DEFAULT_TOPIC",
    "ENV_CONFIG",
    "WEEKDAYS",
    "AppriseChannel",
    "ArticleSettings",
    "CheckSettings",
    "Config",
    "ConfigError",
    "DaemonSettings",
    "EmailChannel",
    "FactSettings",
    "FetchPolicy",
    "HttpSettings",
    "NotifySettings",
    "Routing",
    "SlackChannel",
    "Source",
    "SourceKind",
    "StateSettings",
    "StorySettings",
    "WebSettings",
    "check_http_url",
    "default_state_dir",
    "find_config",
    "is_loopback",
    "load_config",
    "parse_config",
    "parse_duration",
    "parse_listen",
    "shipped_topic_path",
    "warn_if_readable",
]
