from django.urls import path

from tests.lifecycle_project import views

urlpatterns = [
    path("orm/", views.AsyncORM.as_view()),
    path("sync-hook/", views.SyncHook.as_view()),
    path("adata/", views.AsyncData.as_view()),
    path("boom/", views.Boom.as_view()),
    path("slow/", views.Slow.as_view()),
]
