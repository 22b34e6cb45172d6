from django.urls import path

from daf_drf.tasks import task_status_urlpatterns
from tests.tasks_project import views

urlpatterns = [
    path("add/", views.AddView.as_view()),
    path("explode/", views.ExplodeView.as_view()),
    path("echo-datetime/", views.EchoWithDatetimeView.as_view()),
    *task_status_urlpatterns(view=views.TokenTaskStatusView),
    path("staff-tasks/<str:task_id>/", views.StaffSharedTaskStatusView.as_view()),
]
