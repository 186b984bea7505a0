"""The test site's pages: sign up, log in, log out, buy, and what the webhook view received."""

import json

from django.contrib.auth import login, logout
from django.contrib.auth.models import User
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from reflinks_django.client import Client
from reflinks_django.signals import webhook_received

#: Deliveries the webhook view passed on, in order (the e2e test reads them at /received).
RECEIVED = []


@receiver(webhook_received)
def remember(sender, event_type, data, webhook_id, payload, **kwargs):
    RECEIVED.append({"type": event_type, "data": data, "webhook_id": webhook_id})


def home(request):
    who = request.user.username if request.user.is_authenticated else "nobody"
    return HttpResponse(f"Hello, {who}", content_type="text/plain")


@csrf_exempt
def signup(request):
    user = User.objects.create_user(request.POST["username"], password=request.POST["password"])
    login(request, user)
    return redirect("/")


@csrf_exempt
def login_view(request):
    user = User.objects.get(username=request.POST["username"])
    if not user.check_password(request.POST["password"]):
        return HttpResponse("wrong password", status=403)
    login(request, user)
    return redirect("/")


@csrf_exempt
def logout_view(request):
    logout(request)
    return redirect("/")


@csrf_exempt
def purchase(request):
    if not request.user.is_authenticated:
        return HttpResponse("log in first", status=403)
    client = Client()
    confirmed = client.confirm(request.user, "signup")
    conversion = client.conversion(request.user, request.POST["order"], 800, "USD")
    return JsonResponse({"confirmed": confirmed, "conversion": conversion})


def account(request):
    return JsonResponse(Client().user_summary(request.user))


def referral(request):
    return JsonResponse({"referral": request.reflinks_referral})


def received(request):
    return HttpResponse(json.dumps(RECEIVED), content_type="application/json")


urlpatterns = [
    path("", home),
    path("signup", signup),
    path("login", login_view),
    path("logout", logout_view),
    path("purchase", purchase),
    path("account", account),
    path("received", received),
    path("referral", referral),
    path("reflinks/", include("reflinks_django.urls")),
]
