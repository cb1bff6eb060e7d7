"""The due date of every open request, recounted under Regulation 1182/71 Art. 3(4): a month
that ends on a Saturday, a Sunday or a Swedish public holiday ends on the next working day.
Only ever later than the date stored before, so no open request becomes overdue by it.
Closed requests keep the date they were answered under."""

from django.db import migrations

from gallra.policy.periods import months_from

OPEN = ("received", "verified", "in_progress")


def recount(apps, schema_editor):
    SubjectRequest = apps.get_model("subjects", "SubjectRequest")
    for request in SubjectRequest.objects.filter(status__in=OPEN).only(
        "received", "extension_months", "due"
    ):
        due = months_from(request.received, 1 + request.extension_months)
        if due != request.due:
            SubjectRequest.objects.filter(pk=request.pk).update(due=due)


class Migration(migrations.Migration):
    dependencies = [("subjects", "0001_initial")]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop)]
