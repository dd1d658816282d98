"""The payment endpoints. Full paths: the project includes this module at its root."""

from django.urls import path

from civicloop.firelane.payments import views

app_name = "firelane_pay"

urlpatterns = [
    path("firelane/pay/notify/<str:provider>/", views.payment_notify_view, name="notify"),
    path("firelane/pay/return/", views.payment_return_view, name="return"),
]
