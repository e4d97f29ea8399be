"""The editor's settings the analysis reads, and where a bound name's value comes from
(plain data, made by the host and shown by hover)."""
from __future__ import annotations

from dataclasses import dataclass, field

from agrippa.project.config import Config, toml_key_range


@dataclass
class Settings:
    """The editor's settings (section `agrippa`)."""

    bindings: dict[str, object] = field(default_factory=dict)
    inlay_hints: bool = True
    profile: str | None = None
    format_attributes: str = "preserve"  # `format.attributes`: preserve | align | onePerLine

    @staticmethod
    def from_json(data: object) -> Settings:
        s = Settings()
        if isinstance(data, dict):
            b = data.get("bindings")
            if isinstance(b, dict):
                s.bindings = {str(k): v for k, v in b.items()
                              if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
            ih = data.get("inlayHints")
            if isinstance(ih, dict) and isinstance(ih.get("enabled"), bool):
                s.inlay_hints = ih["enabled"]
            if isinstance(data.get("profile"), str) and data["profile"]:
                s.profile = data["profile"]
            fmt = data.get("format")
            if isinstance(fmt, dict) and fmt.get("attributes") in ("preserve", "align", "onePerLine"):
                s.format_attributes = fmt["attributes"]
        return s


@dataclass(frozen=True)
class BindingOrigin:
    """Where a name's value comes from: `where` is "settings", "profile" or "toml"."""

    name: str
    value: object
    where: str
    file: str | None = None
    line: int | None = None  # 0-based
    profile: str | None = None


def binding_origin(settings: Settings, cfg: Config, toml_text: str | None, profile: str | None,
                   name: str) -> BindingOrigin | None:
    """Where `name` gets its value: client settings over the profile over `[bindings]`
    (`toml_text`: agrippa.toml's text, for the line)."""
    if name in settings.bindings:
        return BindingOrigin(name, settings.bindings[name], "settings")
    if profile and name in cfg.profiles.get(profile, {}):
        line = toml_key_range(toml_text, f"profiles.{profile}.{name}").start.line if toml_text else None
        return BindingOrigin(name, cfg.profiles[profile][name], "profile", cfg.path, line, profile)
    if name in cfg.bindings:
        line = toml_key_range(toml_text, f"bindings.{name}").start.line if toml_text else None
        return BindingOrigin(name, cfg.bindings[name], "toml", cfg.path, line)
    return None
