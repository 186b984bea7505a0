from django.core.management.base import BaseCommand, CommandError

from ...client import Client, ReflinksError

COLUMNS = ("identifier", "user_id", "hits", "unique_hits", "visitors", "users", "confirmed")


class Command(BaseCommand):
    help = "Prints the referral report: per link, hits, unique hits, visitors, users and confirmed referrals."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", help="first UTC day counted (YYYY-MM-DD)")
        parser.add_argument("--to", dest="date_to", help="last UTC day counted, included (YYYY-MM-DD)")

    def handle(self, *args, date_from=None, date_to=None, **options):
        try:
            rows = Client().report(date_from, date_to)
        except (ReflinksError, ValueError) as error:
            raise CommandError(str(error)) from error
        if not rows:
            self.stdout.write("No links yet.")
            return
        columns = [c for c in COLUMNS if c in rows[0]]
        table = [columns] + [["" if row[c] is None else str(row[c]) for c in columns] for row in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
        for line in table:
            cells = [
                cell.ljust(width) if i < 2 else cell.rjust(width) for i, (cell, width) in enumerate(zip(line, widths))
            ]
            self.stdout.write("  ".join(cells).rstrip())
