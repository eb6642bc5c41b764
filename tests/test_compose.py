"""docker-compose.yml and the Dockerfile, checked without a Docker engine or a network.

The compose file is for users' servers, so it has to be right by construction: it parses,
its services are the documented ones, every variable it gives l2c is a real setting, its
commands are real `l2c` commands, the search attributes it registers are the workflows'
ones (and the registration script really is idempotent: it runs here against a stand-in
`temporal` command), the ports are the documented ones and the start order holds.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from cli import parser
from config import Settings
from workflows.search_attributes import FOR_DEV_SERVER

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, Any] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()

L2C_SERVICES = {"migrate": "migrate", "api": "api", "worker": "worker"}  # service: subcommand
ONE_SHOTS = ("migrate", "temporal-admin-tools")
EXPECTED_SERVICES = {
    "postgresql",
    "temporal",
    "temporal-ui",
    "temporal-admin-tools",
    "app-db",
    "mailpit",
    *L2C_SERVICES,
}
SECRET = "s" * 40  # what a user would export as L2C_SECRET_KEY


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
    """The services as compose would run them with `env` (default: the secret only)."""
    services: dict[str, Any] = interpolate(
        SERVICES, {"L2C_SECRET_KEY": SECRET} if env is None else env
    )
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


def test_third_party_images_are_pinned():
    expected = {
        "postgresql": "postgres:16",
        "app-db": "postgres:16",
        "temporal": "temporalio/auto-setup:",
        "temporal-ui": "temporalio/ui:",
        "temporal-admin-tools": "temporalio/admin-tools:",
        "mailpit": "axllent/mailpit:",
    }
    for service, prefix in expected.items():
        image = SERVICES[service]["image"]
        assert image.startswith(prefix), f"{service}: {image}"
        tag = image.rpartition(":")[2]
        assert tag and tag != "latest" and "/" not in tag, f"{service} is not pinned: {image}"


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
    with pytest.raises(ValueError, match="L2C_SECRET_KEY"):
        resolved({})
    with pytest.raises(ValueError, match="L2C_SECRET_KEY"):
        resolved({"L2C_SECRET_KEY": ""})


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
    # l2c's records are elsewhere.
    app_db = urlsplit(services["api"]["environment"]["DATABASE_URL"]).hostname
    assert app_db == "app-db" and app_db != temporal["POSTGRES_SEEDS"]
    assert services["app-db"]["image"].startswith("postgres:")
    for service in ("temporal-ui", "temporal-admin-tools"):
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
    env = resolved()["temporal-admin-tools"]["environment"]
    pairs = env["SEARCH_ATTRIBUTES"].split()
    registered = dict(pair.split("=", 1) for pair in pairs)
    assert len(registered) == len(pairs), "an attribute is listed twice"
    assert registered == FOR_DEV_SERVER
    assert env["NAMESPACE"] == resolved()["api"]["environment"]["TEMPORAL_NAMESPACE"]


FAKE_TEMPORAL = r"""#!/bin/sh
echo "$*" >> "$STATE/calls"
count() { n=$(cat "$STATE/$1" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$STATE/$1"; }
case "$1 $2 $3" in
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


def run_registration(tmp_path: Path, mode: str, list_failures: int = 0):
    """The one-shot's script, run by sh against a stand-in `temporal` (and `sleep`)."""
    sh = shutil.which("sh")
    assert sh is not None, "a POSIX sh is needed to run the registration script"
    service = resolved()["temporal-admin-tools"]
    entrypoint, command = service["entrypoint"], service["command"]
    assert entrypoint[-1] == "-c" and len(command) == 1
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    (bin_dir / "temporal").write_text(FAKE_TEMPORAL)
    (bin_dir / "sleep").write_text("#!/bin/sh\nexit 0\n")
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    env = {
        **{k: str(v) for k, v in service["environment"].items()},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "STATE": str(state),
        "MODE": mode,
        "LIST_FAILURES": str(list_failures),
    }
    done = subprocess.run(
        [sh, "-c", command[0]], env=env, capture_output=True, text=True, timeout=20
    )
    calls = (state / "calls").read_text().splitlines() if (state / "calls").exists() else []
    return done, calls


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
        assert needs["temporal-admin-tools"]["condition"] == "service_completed_successfully"
        assert needs["temporal"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["depends_on"]["app-db"]["condition"] == "service_healthy"


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


def test_the_image_installs_l2c_on_python_3_11_as_a_normal_user():
    instructions = dockerfile_instructions()
    stages: list[str] = []
    for instruction, arguments in instructions:
        if instruction == "FROM":
            words = arguments.split()
            image = words[0]
            if image not in stages:
                assert re.fullmatch(r"python:3\.11(-[\w.-]+)?", image), image
            if len(words) == 3 and words[1].upper() == "AS":
                stages.append(words[2])
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


def test_the_build_context_leaves_out_local_state():
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".git", ".venv", ".l2c", ".env", "build"):
        assert entry in ignored, f".dockerignore lacks {entry}"
