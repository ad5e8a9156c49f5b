"""`manage.py export_controls`: the controls page's ZIP written to a file, by the same code, for the same people
(dave, an Auditor, may; alice, an Executive, may not), and bad input answered with a message, not a traceback."""

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.evidence import public_key_b64
from dashboard.compliance.bundle_check import verify_bundle
from tests.support.audit import wait_until_sequenced

pytestmark = pytest.mark.django_db


def test_the_command_writes_the_zip_the_page_downloads_and_it_verifies_offline(decide, finance_agent, dave, tmp_path):
    # Given a decision today
    decide(finance_agent, amount=10, now=timezone.now())
    wait_until_sequenced()
    output = tmp_path / "eu-ai-act.zip"

    # When the Auditor's export is written to a file
    call_command("export_controls", "--framework", "eu-ai-act", "--period", "7d", "--user", "dave", "-o", output)

    # Then the ZIP verifies under the organisation's key with the period's evidence pack inside
    result = verify_bundle(str(output), public_key_b64())
    assert result["events"] >= 1
    assert not list(tmp_path.glob(".writing-*"))


def test_a_custom_period_and_one_department(decide, finance_agent, finance, dave, tmp_path):
    today = timezone.now().date().isoformat()
    output = tmp_path / "nist.zip"

    call_command(
        "export_controls", "--framework", "nist-ai-rmf", "--period", "custom", "--start", today, "--end", today,
        "--department", str(finance.pk), "--user", "dave", "-o", output,
    )  # fmt: skip

    assert verify_bundle(str(output), public_key_b64())["events"] >= 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--framework", "sox"], "No framework 'sox' in the control library; one of: "),
        (["--period", "decade"], "--period: Select a valid choice. decade is not one of the available choices."),
        (["--period", "custom", "--start", "2026-11-10", "--end", "2026-11-01"], "--end: The last day must not be"),
        (["--period", "custom", "--start", "tomorrow"], "--start: Enter a valid date."),
        (["--department", "999999"], "--department: Select a valid choice. 999999 is not one of the available"),
        (["--user", "nobody"], "No active user named 'nobody'."),
        (["--user", "alice"], "alice: The ZIP holds the whole audit log of the period: Auditors export it."),
        (["--user", "carol"], "carol: Controls and evidence are for Auditors, Executives and Supervisors."),
    ],
)
def test_bad_input_is_a_message_naming_what_is_wrong(alice, carol, dave, tmp_path, arguments, message):
    # Given an otherwise complete command line
    given = {"--framework": "eu-ai-act", "--user": "dave", "-o": str(tmp_path / "out.zip")}
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        given[flag] = value

    # When it runs
    with pytest.raises(CommandError) as refused:
        call_command("export_controls", *[part for pair in given.items() for part in pair])

    # Then it says what is wrong and writes nothing
    assert str(refused.value).startswith(message) or message in str(refused.value)
    assert not list(tmp_path.iterdir())


def test_an_output_in_a_missing_directory_is_refused(dave, tmp_path):
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("export_controls", "--framework", "eu-ai-act", "--user", "dave", "-o", tmp_path / "no" / "x.zip")
