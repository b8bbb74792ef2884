"""docker-compose.yml and deploy/Dockerfile checked against the code they deploy.

No Docker engine is needed: the compose file and the Dockerfile are parsed and compared
with the settings classes, the CLI and the packaging, so a renamed setting, a changed
default port or a new subcommand cannot silently break the deployment.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

import pytest
import typer
import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from services.ingest.settings import IngestSettings
from services.metrics.settings import MetricsSettings
from services.router.settings import RouterSettings
from shared.db.engine import normalize_url
from shared.settings import PLACEHOLDER_SECRETS, CommonSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
LOCK_FILE = "requirements.lock"

# Compose service name -> the settings class that service reads.
APP_SERVICES: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings,
    "router": RouterSettings,
    "metrics": MetricsSettings,
}
INFRA_SERVICES = ("kafka", "postgres")
SCALABLE_SERVICES = ("router",)

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, $VAR
_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


# --- helpers ---------------------------------------------------------------------------------------


def _load_compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing; create it at the repository root"
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), (
        "docker-compose.yml has no `services:` mapping; define the stack under a top-level `services:` key"
    )
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment:` as a dict (map or `KEY=VALUE` list form), values as strings."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _interpolated_vars(value: str) -> list[tuple[str, str | None]]:
    """Variables a compose value takes from the host environment: (name, operator)."""
    found = []
    for match in _INTERPOLATION.finditer(value):
        if match.group("braced"):
            found.append((match.group("braced"), match.group("op")))
        elif match.group("bare"):
            found.append((match.group("bare"), None))
    return found


def _resolve(value: str) -> str:
    """Substitute compose interpolations with a realistic stand-in (what an operator would export)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        if op in (":-", "-"):
            return arg or ""
        return f"compose-test-{name.lower().replace('_', '-')}"

    return _INTERPOLATION.sub(replace, value)


def _env_fields(settings_cls: type[BaseSettings]) -> dict[str, Any]:
    """Environment variable name -> field info, for a settings class's own fields (not `common`)."""
    prefix = str(settings_cls.model_config.get("env_prefix", ""))
    return {
        f"{prefix}{name}".upper(): info
        for name, info in settings_cls.model_fields.items()
        if name != "common"
    }


def _valid_env_names(settings_cls: type[BaseSettings]) -> dict[str, Any]:
    return {**_env_fields(CommonSettings), **_env_fields(settings_cls)}


def _is_secret(info: Any) -> bool:
    annotation = info.annotation
    return annotation is SecretStr or SecretStr in get_args(annotation)


def _default_port(settings_cls: type[BaseSettings]) -> int:
    port = settings_cls.model_fields["port"].default
    assert isinstance(port, int), f"{settings_cls.__name__}.port has no integer default"
    return port


def _port_pairs(service: dict[str, Any]) -> list[tuple[str | None, int]]:
    """(published host port or None, container port) for every `ports:` entry."""
    pairs: list[tuple[str | None, int]] = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            published = entry.get("published")
            pairs.append((None if published is None else str(published), int(entry["target"])))
            continue
        spec = str(entry).split("/", 1)[0]
        parts = spec.rsplit(":", 2) if spec.count(":") <= 2 else [spec]
        container = parts[-1]
        host = parts[-2] if len(parts) >= 2 else None
        pairs.append((host or None, int(container)))
    return pairs


def _healthcheck_urls(service: dict[str, Any]) -> list[str]:
    test = (service.get("healthcheck") or {}).get("test") or []
    text = test if isinstance(test, str) else " ".join(str(part) for part in test)
    return re.findall(r"https?://[^\s'\"]+", text)


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _cli_command_names() -> set[str]:
    try:
        cli = importlib.import_module("services.cli")
    except ModuleNotFoundError as exc:
        pytest.fail(
            f"cannot import services.cli ({exc}); the `leadrelay` console script "
            "(pyproject [project.scripts]) needs a typer app named `app` in services/cli.py"
        )
    app = getattr(cli, "app", None)
    assert app is not None, "services/cli.py defines no typer app named `app`; compose commands need it"
    command = typer.main.get_command(app)
    # A group (several subcommands) has `.commands`; duck-typed because newer typer vendors click.
    subcommands = getattr(command, "commands", None)
    if isinstance(subcommands, dict):
        return set(subcommands)
    return {command.name} if command.name else set()


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing; compose builds the services from it"
    instructions: list[tuple[str, str]] = []
    buffer = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):  # comments may sit between continuation lines too
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        keyword, _, args = (buffer + line).strip().partition(" ")
        buffer = ""
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _copy_sources_and_dest(args: str) -> tuple[list[str], str, bool]:
    """COPY arguments -> (sources, destination, from another stage?)."""
    if args.startswith("["):
        parts = json.loads(args)
        flags: list[str] = []
    else:
        tokens = shlex.split(args)
        flags = [token for token in tokens if token.startswith("--")]
        parts = [token for token in tokens if not token.startswith("--")]
    from_stage = any(flag.startswith("--from") for flag in flags)
    return parts[:-1], parts[-1], from_stage


def _exec_form(args: str) -> list[str]:
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return shlex.split(args)
    return value if isinstance(value, list) else [str(value)]


# --- compose: services, build, commands -----------------------------------------------------------


@pytest.mark.unit
def test_expected_services_exist(services: dict[str, Any]) -> None:
    missing = [name for name in (*APP_SERVICES, *INFRA_SERVICES) if name not in services]
    assert not missing, (
        f"docker-compose.yml lacks service(s) {missing}; "
        f"the stack needs {sorted((*APP_SERVICES, *INFRA_SERVICES))}"
    )


@pytest.mark.unit
def test_app_services_share_one_build_and_image(services: dict[str, Any]) -> None:
    images = {}
    for name in APP_SERVICES:
        service = services[name]
        build = service.get("build")
        assert isinstance(build, dict), (
            f"service {name!r} has no `build:` mapping; "
            "set build: {context: ., dockerfile: deploy/Dockerfile}"
        )
        context = ROOT / str(build.get("context", "."))
        dockerfile = context / str(build.get("dockerfile", "Dockerfile"))
        assert context.resolve() == ROOT, (
            f"service {name!r} builds from context {build.get('context')!r}; use `context: .` "
            "(the repo root, where pyproject.toml and requirements.lock are)"
        )
        assert dockerfile.resolve() == DOCKERFILE.resolve(), (
            f"service {name!r} builds {build.get('dockerfile')!r}; all services use deploy/Dockerfile"
        )
        assert DOCKERFILE.is_file(), "deploy/Dockerfile is missing; compose builds every service from it"
        images[name] = service.get("image")
    assert len(set(images.values())) == 1 and None not in images.values(), (
        f"app services must share one `image:` name (one build, three commands); got {images}"
    )


@pytest.mark.unit
def test_scalable_services_have_no_fixed_name_or_host_port(services: dict[str, Any]) -> None:
    for name in SCALABLE_SERVICES:
        service = services[name]
        assert "container_name" not in service, (
            f"service {name!r} sets container_name, so `docker compose up --scale {name}=3` fails; remove it"
        )
        fixed = [host for host, _ in _port_pairs(service) if host]
        assert not fixed, (
            f"service {name!r} publishes fixed host port(s) {fixed}, which collide when scaled; "
            'use `expose:` or publish the container port only (e.g. "8001")'
        )


@pytest.mark.unit
def test_commands_are_leadrelay_subcommands(services: dict[str, Any]) -> None:
    available = _cli_command_names()
    for name in APP_SERVICES:
        command = _command(services[name])
        assert command, f'service {name!r} has no `command:`; set command: ["{name}"]'
        assert command[0] in available, (
            f"service {name!r} runs `leadrelay {command[0]}`, but services/cli.py registers only "
            f"{sorted(available)}; fix the compose `command:` or add the subcommand"
        )
        assert command[0] == name, (
            f"service {name!r} runs `leadrelay {command[0]}`; the {name} service must run `leadrelay {name}`"
        )


# --- compose: environment against the settings classes -------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_leadrelay_variables_map_to_settings_fields(services: dict[str, Any], name: str) -> None:
    settings_cls = APP_SERVICES[name]
    valid = _valid_env_names(settings_cls)
    env = _environment(services[name])
    unknown = sorted(key for key in env if key.upper().startswith("LEADRELAY_") and key.upper() not in valid)
    assert not unknown, (
        f"service {name!r} sets {unknown}, which no field of CommonSettings or {settings_cls.__name__} reads "
        f"(a typo or a setting of another service); valid names here: {sorted(valid)}"
    )


@pytest.mark.unit
@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_environment_loads_into_settings(
    services: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compose environment, with secrets exported, must validate: types, literals, no placeholders."""
    for key in list(os.environ):
        if key.upper().startswith("LEADRELAY_"):
            monkeypatch.delenv(key)
    for key, value in _environment(services[name]).items():
        monkeypatch.setenv(key, _resolve(value))
    settings_cls = APP_SERVICES[name]
    try:
        settings: Any = settings_cls()
    except Exception as exc:
        pytest.fail(
            f"service {name!r}: its compose environment does not validate as {settings_cls.__name__}: {exc}"
        )

    environments = get_args(CommonSettings.model_fields["environment"].annotation)
    production_like = [env for env in environments if env not in ("dev", "test")]
    assert not settings.common.is_dev, (
        f"service {name!r} runs with LEADRELAY_ENVIRONMENT={settings.common.environment}, which accepts "
        f"placeholder secrets; docker-compose.yml is production-like, set it to one of {production_like}"
    )
    assert settings.host == "0.0.0.0", (
        f"service {name!r} binds {settings.host}; inside a container it must listen on all interfaces, "
        f"set {settings_cls.model_config.get('env_prefix')}HOST: 0.0.0.0"
    )


@pytest.mark.unit
@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_placeholder_secrets_come_from_required_variables(services: dict[str, Any], name: str) -> None:
    settings_cls = APP_SERVICES[name]
    env = _environment(services[name])
    for var, info in _env_fields(settings_cls).items():
        if not _is_secret(info):
            continue
        default = info.default
        has_placeholder_default = isinstance(default, SecretStr) and (
            default.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
        )
        if var not in env:
            assert not has_placeholder_default, (
                f"service {name!r} does not set {var}, whose default is a placeholder that "
                f"LEADRELAY_ENVIRONMENT=production refuses; add {var}: ${{{var}:?set {var}}}"
            )
            continue
        refs = _interpolated_vars(env[var])
        assert (
            env[var].startswith("${") and env[var].endswith("}") and len(refs) == 1 and refs[0][1] == ":?"
        ), (
            f"service {name!r} sets secret {var} to {env[var]!r}; take it from the environment with a "
            f"required-variable error instead: {var}: ${{{var}:?set {var}}}"
        )


# --- compose: ports and health -------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_ports_match_settings_default(services: dict[str, Any], name: str) -> None:
    settings_cls = APP_SERVICES[name]
    port = _default_port(settings_cls)
    prefix = str(settings_cls.model_config.get("env_prefix"))
    service = services[name]
    env = _environment(service)
    if f"{prefix}PORT" in env:
        assert _resolve(env[f"{prefix}PORT"]) == str(port), (
            f"service {name!r} sets {prefix}PORT={env[f'{prefix}PORT']} but {settings_cls.__name__}.port "
            f"defaults to {port}; keep them equal (or change the default in the settings class)"
        )
    for host, container in _port_pairs(service):
        assert container == port, (
            f"service {name!r} publishes {host}:{container}, but the service listens on {port} "
            f'({settings_cls.__name__}.port); publish "{port}:{port}"'
        )
    for exposed in service.get("expose") or []:
        assert int(str(exposed).split("/", 1)[0]) == port, (
            f'service {name!r} exposes {exposed}, but the service listens on {port}; expose "{port}"'
        )


@pytest.mark.unit
@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_healthcheck_hits_own_port(services: dict[str, Any], name: str) -> None:
    port = _default_port(APP_SERVICES[name])
    urls = _healthcheck_urls(services[name])
    assert urls, (
        f"service {name!r} has no HTTP healthcheck; add one that fetches "
        f'http://127.0.0.1:{port}/readyz (e.g. python -c "import urllib.request; ...")'
    )
    for url in urls:
        parts = urlsplit(url)
        assert parts.port == port, (
            f"service {name!r} healthcheck fetches {url}, but the service listens on {port}; "
            f"use http://127.0.0.1:{port}/readyz"
        )
        assert parts.path in ("/readyz", "/healthz"), (
            f"service {name!r} healthcheck fetches {parts.path}; every service serves /readyz and /healthz"
        )
        assert parts.hostname in ("127.0.0.1", "localhost"), (
            f"service {name!r} healthcheck fetches host {parts.hostname}; "
            "a container checks itself on 127.0.0.1"
        )


@pytest.mark.unit
@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_depends_on_healthy_kafka_and_postgres(services: dict[str, Any], name: str) -> None:
    depends_on = services[name].get("depends_on")
    assert isinstance(depends_on, dict), (
        f"service {name!r} needs `depends_on:` in long form so it waits for health: "
        "{kafka: {condition: service_healthy}, postgres: {condition: service_healthy}}"
    )
    for infra in INFRA_SERVICES:
        condition = (depends_on.get(infra) or {}).get("condition")
        assert condition == "service_healthy", (
            f"service {name!r} does not wait for {infra!r} to be healthy (condition={condition!r}); "
            f"set depends_on.{infra}.condition: service_healthy"
        )
        assert services[infra].get("healthcheck"), (
            f"service {name!r} waits for {infra!r} to be healthy, but {infra!r} has no healthcheck; add one"
        )


# --- compose: connections ------------------------------------------------------------------------


def _kafka_advertised(services: dict[str, Any]) -> dict[str, str]:
    """Listener name -> host:port advertised by the kafka service."""
    env = _environment(services["kafka"])
    raw = env.get("KAFKA_ADVERTISED_LISTENERS", "")
    assert raw, "kafka service sets no KAFKA_ADVERTISED_LISTENERS; advertise PLAINTEXT://kafka:9092"
    listeners = {}
    for item in raw.split(","):
        listener, _, address = item.strip().partition("://")
        listeners[listener] = address
    return listeners


@pytest.mark.unit
@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_kafka_bootstrap_is_advertised_listener(services: dict[str, Any], name: str) -> None:
    advertised = _kafka_advertised(services)
    bootstrap = _environment(services[name]).get("LEADRELAY_KAFKA_BOOTSTRAP")
    assert bootstrap, (
        f"service {name!r} does not set LEADRELAY_KAFKA_BOOTSTRAP, so it would dial "
        f"{CommonSettings.model_fields['kafka_bootstrap'].default}; set it to {advertised.get('PLAINTEXT')}"
    )
    addresses = [address.strip() for address in _resolve(bootstrap).split(",")]
    for address in addresses:
        assert address in advertised.values(), (
            f"service {name!r} bootstraps from {address}, which the kafka service does not advertise "
            f"({advertised}); set LEADRELAY_KAFKA_BOOTSTRAP to one of {sorted(advertised.values())}"
        )
        assert address.rsplit(":", 1)[0] == "kafka", (
            f"service {name!r} bootstraps from {address}; use the compose service name `kafka` as host"
        )


@pytest.mark.unit
def test_kafka_does_not_auto_create_topics(services: dict[str, Any]) -> None:
    value = _environment(services["kafka"]).get("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")
    assert value.lower() == "false", (
        f"kafka has KAFKA_AUTO_CREATE_TOPICS_ENABLE={value}; the services create their topics with the "
        'right partition counts at start, so set it to "false" to surface a missing topic instead of '
        "silently creating a one-partition one"
    )


@pytest.mark.unit
@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_database_url_points_at_postgres(services: dict[str, Any], name: str) -> None:
    from sqlalchemy.engine import make_url

    raw = _environment(services[name]).get("LEADRELAY_DATABASE_URL")
    assert raw, (
        f"service {name!r} does not set LEADRELAY_DATABASE_URL, so it would use a SQLite file inside its "
        "container; set postgresql://leadrelay:${POSTGRES_PASSWORD:?...}@postgres:5432/leadrelay"
    )
    url = make_url(normalize_url(_resolve(raw)))
    pg = _environment(services["postgres"])
    assert url.drivername == "postgresql+asyncpg", (
        f"service {name!r} database URL uses driver {url.drivername}; use a postgresql:// URL "
        "(shared.db.engine.normalize_url maps it to asyncpg)"
    )
    assert url.host == "postgres", (
        f"service {name!r} database host is {url.host!r}; use the compose service name `postgres`"
    )
    assert (url.port or 5432) == 5432, (
        f"service {name!r} database port is {url.port}; postgres listens on 5432"
    )
    assert url.database == pg.get("POSTGRES_DB"), (
        f"service {name!r} uses database {url.database!r}, but postgres creates "
        f"POSTGRES_DB={pg.get('POSTGRES_DB')!r}; make them equal"
    )
    assert url.username == pg.get("POSTGRES_USER", "postgres"), (
        f"service {name!r} connects as {url.username!r}, but postgres creates "
        f"POSTGRES_USER={pg.get('POSTGRES_USER', 'postgres')!r}; make them equal"
    )
    url_vars = {var for var, _ in _interpolated_vars(raw)}
    pg_password_vars = {var for var, _ in _interpolated_vars(pg.get("POSTGRES_PASSWORD", ""))}
    assert pg_password_vars and pg_password_vars <= url_vars, (
        f"service {name!r} database URL takes its password from {sorted(url_vars)}, postgres from "
        f"{sorted(pg_password_vars)}; both must use the same required variable (${{POSTGRES_PASSWORD:?...}})"
    )


@pytest.mark.unit
def test_postgres_password_is_required_from_environment(services: dict[str, Any]) -> None:
    value = _environment(services["postgres"]).get("POSTGRES_PASSWORD", "")
    refs = _interpolated_vars(value)
    assert len(refs) == 1 and refs[0][1] == ":?", (
        f"postgres POSTGRES_PASSWORD is {value!r}; take it from the environment with a required-variable "
        "error: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    )


# --- Dockerfile ------------------------------------------------------------------------------------


@pytest.mark.unit
def test_dockerfile_installs_from_lock_file() -> None:
    runs = [args for keyword, args in _dockerfile_instructions() if keyword == "RUN"]
    lock_install = [
        i
        for i, args in enumerate(runs)
        if "pip install" in args and re.search(rf"-r\s+\S*{LOCK_FILE}\b", args)
    ]
    project_install = [
        i
        for i, args in enumerate(runs)
        if "pip install" in args and re.search(r"--no-deps\b.*\s\.(\s|$)", args)
    ]
    assert lock_install, (
        f"deploy/Dockerfile does not `pip install -r {LOCK_FILE}`; install the pinned dependencies from it"
    )
    assert project_install, (
        "deploy/Dockerfile does not `pip install --no-deps .`; install the project itself without "
        f"re-resolving what {LOCK_FILE} pinned"
    )
    assert lock_install[0] < project_install[0], (
        f"deploy/Dockerfile installs the project before {LOCK_FILE}; install the lock file first"
    )
    assert (ROOT / LOCK_FILE).is_file(), f"{LOCK_FILE} is missing at the repo root; the image build needs it"


@pytest.mark.unit
def test_dockerfile_copy_sources_exist_and_are_not_dockerignored() -> None:
    ignored = []
    if DOCKERIGNORE.is_file():
        ignored = [
            line.strip().rstrip("/")
            for line in DOCKERIGNORE.read_text().splitlines()
            if line.strip() and not line.strip().startswith(("#", "!"))
        ]
    for keyword, args in _dockerfile_instructions():
        if keyword not in ("COPY", "ADD"):
            continue
        sources, _, from_stage = _copy_sources_and_dest(args)
        if from_stage:
            continue
        for source in sources:
            source = source.removeprefix("./").rstrip("/") or "."
            assert source == "." or list(ROOT.glob(source)), (
                f"deploy/Dockerfile copies {source!r}, which does not exist in the repo; create it or "
                "remove the COPY"
            )
            hit = [pattern for pattern in ignored if fnmatch.fnmatch(source, pattern.removeprefix("**/"))]
            assert not hit, (
                f"deploy/Dockerfile copies {source!r}, but .dockerignore excludes it via {hit}; "
                "drop that pattern"
            )


@pytest.mark.unit
def test_dockerfile_entrypoint_is_console_script() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    scripts = pyproject["project"]["scripts"]
    final = _final_stage(_dockerfile_instructions())
    entrypoints = [_exec_form(args) for keyword, args in final if keyword == "ENTRYPOINT"]
    assert entrypoints, 'deploy/Dockerfile has no ENTRYPOINT; set ENTRYPOINT ["leadrelay"]'
    assert entrypoints[-1][:1] == ["leadrelay"] and "leadrelay" in scripts, (
        f"deploy/Dockerfile ENTRYPOINT is {entrypoints[-1]}, but pyproject's console scripts are "
        f'{sorted(scripts)}; set ENTRYPOINT ["leadrelay"] (compose passes the subcommand)'
    )
    exposed = {
        int(port.split("/", 1)[0]) for keyword, args in final if keyword == "EXPOSE" for port in args.split()
    }
    wanted = {_default_port(cls) for cls in APP_SERVICES.values()}
    assert wanted <= exposed, (
        f"deploy/Dockerfile EXPOSEs {sorted(exposed)}; "
        f"the services listen on {sorted(wanted)}, expose them all"
    )
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":", 1)[0] not in ("root", "0"), (
        "deploy/Dockerfile's final stage runs as root; add a non-root user and `USER` it"
    )


@pytest.mark.unit
@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_config_path_exists_in_image(services: dict[str, Any], name: str) -> None:
    """LEADRELAY_CONFIG must name a file the final image stage copies from the repo."""
    configured = _environment(services[name]).get("LEADRELAY_CONFIG")
    default_config = str(CommonSettings.model_fields["config"].default)
    final = _final_stage(_dockerfile_instructions())
    workdir = "/"
    image_files: dict[str, Path] = {}  # absolute path in image -> repo path
    for keyword, args in final:
        if keyword == "WORKDIR":
            workdir = args if args.startswith("/") else f"{workdir.rstrip('/')}/{args}"
        elif keyword == "COPY":
            sources, dest, from_stage = _copy_sources_and_dest(args)
            if from_stage:
                continue
            dest_abs = dest if dest.startswith("/") else f"{workdir.rstrip('/')}/{dest.removeprefix('./')}"
            for source in sources:
                image_files[dest_abs.rstrip("/")] = ROOT / source.rstrip("/")
    config = configured or default_config
    config_abs = config if config.startswith("/") else f"{workdir.rstrip('/')}/{config}"
    match = [(dest, src) for dest, src in image_files.items() if config_abs.startswith(dest + "/")]
    assert match, (
        f"service {name!r} reads config {config_abs}, but the final Dockerfile stage copies nothing there "
        f"(copied: {sorted(image_files)}); COPY examples into the WORKDIR or fix LEADRELAY_CONFIG"
    )
    dest, src = match[0]
    repo_file = src / config_abs[len(dest) + 1 :]
    assert repo_file.is_file(), (
        f"service {name!r} reads {config_abs}, i.e. {repo_file.relative_to(ROOT)} from the repo, "
        "which does not exist; add the file or fix LEADRELAY_CONFIG"
    )
