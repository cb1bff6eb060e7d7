from django import forms
from django.utils.translation import gettext_lazy as _

from gallra.subjects.models import SubjectRequest

MESSAGE_MAX = 5000


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)
    message = forms.CharField(label=_("Message"), max_length=MESSAGE_MAX, widget=forms.Textarea)


class SubjectRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("What do you want?"), choices=SubjectRequest.Kind.choices)
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)
    name = forms.CharField(label=_("Your name"), max_length=200, required=False)
    details = forms.CharField(
        label=_("Anything we should know (for a correction: what is wrong and what is right)"),
        max_length=2000, required=False, widget=forms.Textarea,
    )  # fmt: skip
