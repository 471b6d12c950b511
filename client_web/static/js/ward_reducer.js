// The events of what the wards bring (scheduling/recommendations.py, documents.py, votes.py)
// folded like their Python `evolve` rules, over the plain data of server/views.py. reducer.js
// takes these in; tests/e2e/test_reducer.py compares the two folds.

export const WARD_STATE = () => ({ recommendations: {}, documents: {}, votes: {} });

function rec(ev, fields) {
  return {
    rec_id: ev.rec_id, site: ev.site, title: ev.title, text: ev.text, field: ev.field, item_id: ev.item_id ?? null,
    submitted_at: ev.at, attachments: ev.attachments || [], sources: [ev.site], merged_from: [], merged_into: null,
    departments: [], due: null, in_meeting: false, status: "submitted", answers: [], kept_open: [], feedback: {},
    carried_from: "", ...fields,
  };
}

export const WARD_EVOLVE = {
  recommendation_submitted(s, ev) {
    s.recommendations[ev.rec_id] = rec(ev, {});
  },
  recommendations_merged(s, ev) {
    const target = s.recommendations[ev.into];
    target.sources = ev.sources;
    target.merged_from = target.merged_from.concat(ev.others);
    for (const id of ev.others) {
      const other = s.recommendations[id];
      other.status = "merged";
      other.merged_into = ev.into;
    }
  },
  recommendation_assigned(s, ev) {
    const r = s.recommendations[ev.rec_id];
    r.departments = ev.departments;
    r.due = ev.due;
    r.status = "assigned";
  },
  recommendation_marked(s, ev) {
    const r = s.recommendations[ev.rec_id];
    r.in_meeting = ev.in_meeting;
    r.item_id = ev.item_id ?? null;
  },
  recommendation_answered(s, ev) {
    const r = s.recommendations[ev.rec_id];
    r.answers.push({ department: ev.department, mode: ev.mode, text: ev.text ?? "", at: ev.at,
      turn_started: ev.turn_started ?? null });
    r.status = "answered";
  },
  answer_decided(s, ev) {
    const r = s.recommendations[ev.rec_id];
    if (ev.accept) r.status = "accepted";
    else {
      r.status = "assigned";
      r.kept_open.push(ev.reason ?? "");
    }
  },
  recommendation_feedback_given(s, ev) {
    s.recommendations[ev.rec_id].feedback[ev.site] = ev.resolved;
  },
  recommendations_carried(s, ev) {
    for (const item of ev.items) {
      s.recommendations[item.rec_id] = rec({ ...item, at: ev.at, item_id: null }, {
        sources: item.sources, departments: item.departments || [], due: item.due ?? null,
        status: item.departments && item.departments.length && item.due ? "assigned" : "submitted",
        carried_from: item.origin,
      });
    }
  },

  document_added(s, ev) {
    s.documents[ev.document_id] = { document_id: ev.document_id, file: ev.file, item_id: ev.item_id ?? null,
      added_at: ev.at, removed: false, receipts: {} };
  },
  document_removed(s, ev) {
    s.documents[ev.document_id].removed = true;
  },
  document_receipt_recorded(s, ev) {
    const receipts = s.documents[ev.document_id].receipts;
    const r = (receipts[ev.site] ||= { opened_at: null, downloaded_at: null });
    if (ev.how === "open") r.opened_at = ev.at;
    else r.downloaded_at = ev.at;
  },

  vote_opened(s, ev) {
    s.votes[ev.vote_id] = { vote_id: ev.vote_id, question: ev.question, options: ev.options, mode: ev.mode,
      secret: ev.secret, deadline: ev.deadline, item_id: ev.item_id ?? null, opened_at: ev.at, closed_at: null,
      ballots: {}, result: [] };
  },
  vote_cast(s, ev) {   // a site's copy has the counts zeroed: who voted, not what
    s.votes[ev.vote_id].ballots[ev.site] = { site: ev.site, counts: ev.counts, at: ev.at };
  },
  vote_closed(s, ev) {
    const v = s.votes[ev.vote_id];
    v.closed_at = ev.at;
    v.result = ev.tally;   // what a site's page shows: its ballots carry no counts
  },
};
