from django.core.management.base import BaseCommand

from audit import checkpoints


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit chain's head now and copy it to every witness (AUDIT_WITNESSES)."

    def handle(self, *args, **options):
        checkpoint = checkpoints.take()
        held = ", ".join(checkpoint.witnessed_by) or "no witness"
        self.stdout.write(
            f"Signed a checkpoint of {checkpoint.size} events "
            f"(fingerprint {checkpoints.fingerprint(checkpoints.as_document(checkpoint))}); held by {held}."
        )
        for witness, error in checkpoint.witness_errors.items():
            self.stderr.write(f"Witness {witness} did not take it: {error}")
