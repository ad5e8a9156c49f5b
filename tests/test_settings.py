"""Settings come from the environment: each case runs a fresh interpreter with an environment built from scratch."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION_URLS = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/regent",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}

READ_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "channel_hosts": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts"),
    "broker": settings.CELERY_BROKER_URL,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "debug": settings.DEBUG,
    "pool": settings.DATABASES["default"].get("OPTIONS", {}).get("pool"),
    "cache_options": settings.CACHES["default"].get("OPTIONS"),
    "max_in_flight": settings.MAX_REQUESTS_IN_FLIGHT,
    "audit_sequencing": settings.AUDIT_SEQUENCING,
    "audit_queue_max_age": settings.AUDIT_QUEUE_MAX_AGE_SECONDS,
}))
"""


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the project's interpreter with only PATH, HOME and the given variables in its environment."""
    clean_env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, *args],
        env={**clean_env, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_under(env: dict[str, str]) -> dict:
    result = run_python("-c", READ_SETTINGS, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def development():
    return settings_under({})


@pytest.fixture(scope="module")
def production():
    return settings_under({**PRODUCTION_URLS, "SECRET_KEY": secrets.token_urlsafe(45)})


def test_with_nothing_set_the_database_is_sqlite(development):
    assert development["engine"] == "django.db.backends.sqlite3"


def test_with_nothing_set_the_channel_layer_is_in_memory(development):
    assert development["channel_layer"] == "channels.layers.InMemoryChannelLayer"


def test_with_nothing_set_tasks_run_in_process(development):
    assert development["eager"] is True


def test_with_nothing_set_debug_is_on(development):
    assert development["debug"] is True


def test_variables_set_but_empty_count_as_unset():
    empty = settings_under({"DATABASE_URL": "", "REDIS_URL": "", "SECRET_KEY": ""})
    assert (empty["engine"], empty["eager"], empty["debug"]) == ("django.db.backends.sqlite3", True, True)


def test_database_url_selects_postgresql(production):
    assert production["engine"] == "django.db.backends.postgresql"


def test_redis_url_selects_the_redis_channel_layer(production):
    assert production["channel_layer"] == "channels_redis.core.RedisChannelLayer"
    assert production["channel_hosts"] == [PRODUCTION_URLS["REDIS_URL"]]


def test_redis_url_is_the_celery_broker(production):
    assert production["broker"] == PRODUCTION_URLS["REDIS_URL"]


def test_with_a_broker_tasks_go_to_workers(production):
    assert production["eager"] is False


def test_a_request_waits_about_a_second_for_a_pooled_connection(production):
    assert production["pool"]["timeout"] == 1.0


def test_the_cache_gives_up_on_a_silent_redis_within_a_second(production):
    assert production["cache_options"] == {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}


def test_a_process_admits_eight_requests_at_once(production):
    assert production["max_in_flight"] == 8


def test_a_process_admits_no_more_requests_than_its_pool_has_connections():
    assert settings_under({**PRODUCTION_URLS, "DB_POOL_MAX": "4"})["max_in_flight"] == 4


def test_with_nothing_set_audit_events_are_chained_by_their_writers(development):
    assert development["audit_sequencing"] == "inline"


def test_on_postgresql_audit_events_are_queued_for_the_sequencer(production):
    assert production["audit_sequencing"] == "queued"
    assert production["audit_queue_max_age"] == 5.0


def test_postgresql_may_still_chain_inline_when_asked():
    assert settings_under({**PRODUCTION_URLS, "AUDIT_SEQUENCING": "inline"})["audit_sequencing"] == "inline"


def test_an_audit_queue_bound_of_zero_is_rejected_with_a_clear_message():
    result = run_python("-c", READ_SETTINGS, env={"AUDIT_QUEUE_MAX_AGE_SECONDS": "0"})

    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: AUDIT_QUEUE_MAX_AGE_SECONDS=0.0 must be more than 0."
    )


def test_an_in_flight_bound_that_admits_nothing_is_rejected():
    result = run_python("-c", READ_SETTINGS, env={"MAX_REQUESTS_IN_FLIGHT": "0"})

    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: MAX_REQUESTS_IN_FLIGHT=0 admits nothing; use 1 or more."
    )


def test_setting_secret_key_turns_debug_off(production):
    assert production["debug"] is False


def test_debug_off_without_secret_key_refuses_to_start():
    # Given DEBUG turned off and no SECRET_KEY
    env = {"DEBUG": "false"}

    # When the settings load
    result = run_python("-c", READ_SETTINGS, env=env)

    # Then the process fails, naming the missing setting
    assert result.returncode != 0
    assert last_line(result.stderr).startswith(
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off."
    )


def test_production_environment_passes_the_deploy_checks():
    # Given the environment a production deployment sets
    env = {"SECRET_KEY": secrets.token_urlsafe(45), "ALLOWED_HOSTS": "regent.example.com"}

    # When Django's deployment checklist runs, failing on warnings too
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)

    # Then nothing is reported
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_an_invalid_boolean_is_rejected_with_a_clear_message():
    # Given a boolean setting that is neither true nor false
    env = {"DEBUG": "maybe"}

    # When the settings load
    result = run_python("-c", READ_SETTINGS, env=env)

    # Then the process fails, naming the variable, the value and what is accepted
    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: DEBUG='maybe' is not a boolean (use true or false)."
    )


def test_a_pool_timeout_that_is_not_a_number_is_rejected_with_a_clear_message():
    env = {"DATABASE_URL": PRODUCTION_URLS["DATABASE_URL"], "DB_POOL_TIMEOUT": "soon"}

    result = run_python("-c", READ_SETTINGS, env=env)

    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: DB_POOL_TIMEOUT='soon' is not a number."
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ORG_CURRENCY", "DOLLARS", "ORG_CURRENCY='DOLLARS' is not an ISO 4217 currency code (e.g. USD, EUR, GBP)."),
        ("ORG_LOCALE", "xx_YY", "ORG_LOCALE='xx_YY' is not a locale (e.g. en_US, en_GB, de_DE)."),
    ],
)
def test_an_unknown_currency_or_locale_is_rejected_with_a_clear_message(variable, value, message):
    result = run_python("-c", READ_SETTINGS, env={variable: value})

    assert result.returncode != 0
    assert last_line(result.stderr) == f"django.core.exceptions.ImproperlyConfigured: {message}"


def test_a_stream_port_that_is_not_a_port_is_rejected_with_a_clear_message():
    result = run_python("-c", READ_SETTINGS, env={"STREAM_PORT": "ws://127.0.0.1:8001"})

    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: STREAM_PORT='ws://127.0.0.1:8001' is not a TCP port "
        "(1-65535), or leave it empty."
    )


def test_keeping_decisions_less_than_six_months_is_refused_at_start():
    result = run_python("-c", READ_SETTINGS, env={"RETENTION_DECISIONS_DAYS": "90"})

    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: RETENTION_DECISIONS_DAYS=90 keeps decisions less than six "
        "months: the EU AI Act (Art. 19 and 26) asks for at least six; use 183 or more."
    )


def test_keeping_audit_events_less_than_six_months_is_refused_at_start():
    result = run_python("-c", READ_SETTINGS, env={"RETENTION_AUDIT_EVENTS_DAYS": "182"})

    assert result.returncode != 0
    assert "RETENTION_AUDIT_EVENTS_DAYS=182 keeps audit events less than six months" in last_line(result.stderr)


def test_traces_may_be_kept_less_than_six_months():
    result = run_python(
        "-c", "from django.conf import settings; print(settings.RETENTION_DAYS)", env={"RETENTION_TRACES_DAYS": "30"}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "{'decisions': 183, 'audit_events': 183, 'traces': 30, 'spans': 183, 'tool_calls': 183}"
    )


def test_spans_may_be_kept_a_week():
    result = run_python(
        "-c",
        "from django.conf import settings; print(settings.RETENTION_DAYS['spans'])",
        env={"RETENTION_SPANS_DAYS": "7"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7"


def test_keeping_spans_less_than_a_day_is_refused_at_start():
    result = run_python("-c", READ_SETTINGS, env={"RETENTION_SPANS_DAYS": "0"})

    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: RETENTION_SPANS_DAYS=0 must be 1 or more."
    )


def test_an_archive_that_is_neither_a_directory_nor_a_bucket_is_refused_at_start():
    result = run_python("-c", READ_SETTINGS, env={"RETENTION_ARCHIVE": "ftp://archive.example.com/regent"})

    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: RETENTION_ARCHIVE='ftp://archive.example.com/regent' is not "
        "file:///absolute/dir or s3://bucket/prefix."
    )


def test_single_sign_on_without_its_endpoints_is_rejected_naming_them():
    result = run_python("-c", READ_SETTINGS, env={"OIDC_RP_CLIENT_ID": "regent", "OIDC_RP_CLIENT_SECRET": "s"})

    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: Single sign-on (OIDC_RP_CLIENT_ID) also needs "
        "OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT, OIDC_OP_JWKS_ENDPOINT."
    )


def test_passwords_off_without_single_sign_on_is_rejected():
    result = run_python("-c", READ_SETTINGS, env={"PASSWORD_LOGIN": "false"})

    assert result.returncode != 0
    assert last_line(result.stderr) == (
        "django.core.exceptions.ImproperlyConfigured: PASSWORD_LOGIN=false needs single sign-on "
        "(OIDC_RP_CLIENT_ID…), or nobody can log in."
    )
