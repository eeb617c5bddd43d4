"""The back-office pages of reporting: the marketer's home, the automation report with
its drill-down, and how we count. Server-rendered; charts draw from JSON in the page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.generic import TemplateView

from campaigns.selectors import campaigns_running, contact_enrollments
from common.admin_paging import EstimatedCountPaginator
from contacts.models import Contact, Touchpoint
from intents.scoring import lead_score_explain
from intents.selectors import intent_signal_list, intents_detected_since, topics_new_since
from ledger.counting import RULES, NoChannel
from reporting.exports import actions_csv, csv_response, groups_csv, suggestions_csv
from reporting.forms import PRESETS, ActionFilterForm, PeriodForm
from reporting.history import contact_intent_history, contact_score_history, history_chart, history_since
from reporting.periods import Period
from reporting.selectors import (
    action_breakdown,
    action_list,
    action_trend,
    automation_ratio,
    category_label,
    channel_label,
    contact_tally,
    contact_timeline,
    manual_action_latest,
)
from reporting.suggestions import automate_next
from segments.selectors import contact_segment_answers, segments_with_sizes

TABLES = {
    "category": "By category",
    "channel": "By channel",
    "campaign": "By campaign",
    "integration": "By integration",
    "person": "By person",
}


class ReportPage(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """A page inside the back-office: the admin's header, and readable by every role."""

    login_url = reverse_lazy("admin:login")
    permission_required = "reporting.view_actionrollup"
    title = ""

    def handle_no_permission(self):
        # A stranger is sent to sign in; a signed-in person without the role is told no.
        if self.request.user.is_authenticated:
            raise PermissionDenied("your role does not include reading reports")
        return super().handle_no_permission()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request), title=self.title, is_nav_sidebar_enabled=False)
        return context


def _chart_trend(groups) -> dict:
    return {
        "labels": [group.label for group in groups],
        "keys": [group.key for group in groups],
        "algorithmic": [group.tally.algorithmic for group in groups],
        "manual": [group.tally.manual for group in groups],
        "share": [group.tally.algorithmic_percent for group in groups],
        "ratio": [group.tally.label for group in groups],
    }


def _chart_breakdown(groups) -> dict:
    return {
        "labels": [group.label for group in groups],
        "keys": [group.key for group in groups],
        "algorithmic": [group.tally.algorithmic for group in groups],
        "manual": [group.tally.manual for group in groups],
        "ratio": [group.tally.label for group in groups],
    }


class AutomationReportView(ReportPage):
    template_name = "reporting/automation.html"
    title = "Automation ratio"

    def get(self, request, *args, **kwargs):
        if request.GET:
            form = PeriodForm(request.GET)
        else:
            last_30 = Period.last_days(30)
            form = PeriodForm({"start": last_30.start, "end": last_30.end, "unit": "day"})
        period, unit = form.selected_period(), form.selected_unit()
        export = request.GET.get("export")
        if export:
            return self.export(export, period, unit)
        context = self.get_context_data(form=form, period=period, unit=unit)
        return self.render_to_response(context)

    def export(self, table: str, period: Period, unit: str):
        suffix = f"{period.start}-{period.end}.csv"
        if table == "trend":
            trend = action_trend(period=period, unit=unit)
            return csv_response(groups_csv(trend, key_name=unit), f"trend-{suffix}")
        if table == "automate-next":
            suggestions = automate_next(period=period, limit=20)
            return csv_response(suggestions_csv(suggestions), f"automate-next-{suffix}")
        if table not in TABLES:
            raise Http404(f"no table {table!r}")
        groups = action_breakdown(period=period, by=table)
        return csv_response(groups_csv(groups, key_name=table), f"{table}-{suffix}")

    def get_context_data(self, *, form, period, unit, **kwargs):
        context = super().get_context_data(**kwargs)
        report = automation_ratio(period=period, group_by=unit)
        tables = [(key, title, action_breakdown(period=period, by=key)) for key, title in TABLES.items()]
        categories = tables[0][2]
        today = timezone.localdate()
        context.update(
            form=form,
            report=report,
            period=period,
            unit=unit,
            presets=[(label, Period.last_days(days, today=today)) for days, label in PRESETS],
            tables=[table for table in tables if table[2]],
            suggestions=automate_next(period=period),
            trend_chart=_chart_trend(report.groups),
            category_chart=_chart_breakdown(categories),
            category_height=60 + 30 * len(categories),
            query=f"start={period.start}&end={period.end}&unit={unit}",
        )
        return context


FILTERS = ("category", "actor_kind", "verb")


class ActionListView(ReportPage):
    """The ledger's actions behind a figure of the report (a category, manual ones...)."""

    template_name = "reporting/actions.html"
    title = "Actions"
    per_page = 50

    def get(self, request, *args, **kwargs):
        last_30 = Period.last_days(30)
        form = ActionFilterForm(request.GET or {"start": last_30.start, "end": last_30.end})
        period = form.selected_period()
        valid = form.is_valid()
        filters = {name: form.cleaned_data.get(name) if valid else "" for name in FILTERS}
        actions = action_list(period=period, **filters)
        if request.GET.get("export") == "csv":
            return csv_response(actions_csv(actions), f"actions-{period.start}-{period.end}.csv")
        page = EstimatedCountPaginator(actions, self.per_page).get_page(request.GET.get("page"))
        title = category_label(filters["category"]) if filters["category"] else "Every category"
        kind = {"manual": "manual ", "algorithmic": "algorithmic "}.get(filters["actor_kind"], "")
        query = request.GET.copy()
        query.pop("page", None)
        context = self.get_context_data(
            form=form,
            period=period,
            filters=filters,
            page=page,
            heading=f"{title}: {kind}actions",
            query=query.urlencode(),
        )
        return self.render_to_response(context)


class HowWeCountView(ReportPage):
    template_name = "reporting/how_we_count.html"
    title = "How we count"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            time_zone=timezone.get_default_timezone_name(),
            units=[(verb, rule) for verb, rule in sorted(RULES.items()) if rule.counts],
            bookkeeping=[(verb, rule) for verb, rule in sorted(RULES.items()) if not rule.counts],
            no_channel_reasons=list(NoChannel),
            **kwargs,
        )


class HomeView(ReportPage):
    """The marketer's home: the ratio and its trend, the touchpoints of the last days and
    the manual work lately done."""

    template_name = "reporting/home.html"
    title = "Home"
    touchpoint_days = 14

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        period = Period.last_days(30)
        report = automation_ratio(period=period, group_by="day")
        recent = Period.last_days(self.touchpoint_days)
        per_day = dict(
            Touchpoint.objects.filter(occurred_at__gte=recent.start_at, occurred_at__lt=recent.end_before)
            .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
            .values_list("day")
            .annotate(count=Count("id"))
            .values_list("day", "count")
        )
        days = [recent.start + timedelta(days=i) for i in range(recent.days)]
        by_channel = (
            Touchpoint.objects.filter(occurred_at__gte=recent.start_at, occurred_at__lt=recent.end_before)
            .values("channel")
            .annotate(count=Count("id"))
            .order_by("-count")
        )
        latest_touchpoints = Touchpoint.objects.select_related("contact", "kind").order_by("-occurred_at")
        context.update(
            report=report,
            period=period,
            trend_chart=_chart_trend(report.groups),
            touchpoint_chart={
                "labels": [f"{day:%a %-d %b}" for day in days],
                "counts": [per_day.get(day, 0) for day in days],
            },
            touchpoints_total=sum(per_day.values()),
            touchpoint_channels=[(channel_label(row["channel"]), row["count"]) for row in by_channel],
            touchpoints_latest=latest_touchpoints[:8],
            manual_latest=manual_action_latest(limit=8),
            suggestion=next(iter(automate_next(period=period, limit=1)), None),
            recent=recent,
            segments=segments_with_sizes(),
            intents=intents_detected_since(since=recent.start_at),
            campaigns=campaigns_running(),
            new_topics=topics_new_since(since=timezone.now() - timedelta(days=7)),
        )
        return context


class ContactView(ReportPage):
    """A contact seen whole: who they are, and the timeline of what they did (touchpoints)
    and what was done to them (the ledger), by software or by hand."""

    template_name = "reporting/contact.html"
    title = "Contact"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contact = get_object_or_404(
            Contact.objects.select_related("account", "owner").prefetch_related("tags"), pk=kwargs["pk"]
        )
        context.update(
            contact=contact,
            title=f"{contact.first_name} {contact.last_name}".strip() or contact.email,
            tally=contact_tally(contact_id=contact.pk),
            timeline=contact_timeline(contact_id=contact.pk),
            segment_answers=contact_segment_answers(contact, now=timezone.now()),
            intent_signals=intent_signal_list(contact_id=contact.pk)[:10],
            score_lines=lead_score_explain(contact=contact),
            enrollments=contact_enrollments(contact_id=contact.pk),
        )
        now = timezone.now()
        since = history_since(now)
        score = contact_score_history(contact=contact, now=now)
        intents = contact_intent_history(contact_id=contact.pk, now=now)
        context.update(
            history_days=(now - since).days,
            score_chart=history_chart([score], since=since) if len(score.points) > 2 else None,
            intent_chart=history_chart(intents, since=since) if intents else None,
        )
        return context
