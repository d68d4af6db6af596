#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dr_report
short_description: Evidence report of a DR run - a self-contained HTML page with a timeline chart and a Markdown summary
version_added: 0.1.0
description:
  - Reads the run record of a failover, failback, reprotect or rehearsal (what M(onefs.dr.dr_run) writes with
    O(onefs.dr.dr_run#module:action=finish) and O(onefs.dr.dr_run#module:record_dir), or its RV(onefs.dr.dr_run#module:record))
    and writes two files on the host running the module (the controller in the collection's playbooks).
  - "The HTML page is self-contained: inline CSS and an inline SVG chart, no script and nothing loaded from anywhere
    (its Content-Security-Policy forbids it), so it can be attached to a ticket or kept as an AWX artifact. Every text
    taken from the record is escaped."
  - "Both files give: the scope, the operation and whether it was a test (rehearsal), who ran it from where and when,
    the point in time reached per policy and the achieved RPO (run start and run end minus the point in time's
    C(end_time)), the measured duration of each phase, of each step and of the whole run (the RTO of the storage
    layer), the warnings, what is left for a person to do, and the source policies left unfenced."
  - The chart is Gantt-like - one bar per phase, then one bar per step from its C(started) to its C(ended); a step
    recorded without C(started) is drawn from the end of the previous step.
  - Makes no API call. It accepts the connection options of the C(onefs) action group (so that
    C(module_defaults) for C(group/onefs.dr.onefs) can cover it) and ignores them.
author: onefs.dr developers (@onefs-dr)
extends_documentation_fragment:
  - onefs.dr.connection
  - onefs.dr.connection.PEER
attributes:
  check_mode:
    description: Writes nothing; returns what would be written (RV(markdown), RV(html)) and whether it would change.
    support: full
  diff_mode:
    description: No diff is returned.
    support: none
  platform:
    description: Runs on the host it is given (the controller with C(connection=local)).
    support: full
    platforms: posix
  action:
    description:
      - Has an action plugin. On a local connection the module runs in a fork of Ansible's worker process instead
        of a new Python process (see the other modules of the collection); elsewhere, or with
        C(onefs_dr_fork_modules=false), as a normal module process.
    support: full
options:
  record:
    description:
      - The run record itself (docs/DESIGN.md 6.5), for example the RV(onefs.dr.dr_run#module:record) returned by
        M(onefs.dr.dr_run).
      - Mutually exclusive with O(record_path); one of the two is required.
    type: dict
  record_path:
    description: A run record as a JSON file, such as C(<record_dir>/<run_id>.json) written by M(onefs.dr.dr_run).
    type: path
  dest_dir:
    description:
      - Directory for C(<run_id>.html) and C(<run_id>.md) (created when missing).
      - Defaults to the directory of O(record_path). Required with O(record) unless O(html_path) and
        O(markdown_path) are both given.
    type: path
  html_path:
    description: Path of the HTML file, instead of C(<dest_dir>/<run_id>.html).
    type: path
  markdown_path:
    description: Path of the Markdown file, instead of C(<dest_dir>/<run_id>.md).
    type: path
notes:
  - The files are written only when their content differs, so running the module again on the same record reports
    no change. Their content depends only on the record (times are shown in UTC).
  - The connection options (O(onefs_host), O(peer)...) are ignored.
seealso:
  - module: onefs.dr.dr_run
'''

EXAMPLES = r'''
- name: Finish the run, with the record written on the controller
  onefs.dr.dr_run:
    pair: prod-dr
    action: finish
    run_id: "{{ run.run_id }}"
    record_dir: /var/lib/onefs-dr/records
    peer: "{{ onefs_dr_source }}"
  register: finished

- name: Evidence report next to the record
  onefs.dr.dr_report:
    record_path: "{{ finished.record_file }}"

- name: Or from the record returned by dr_run, into another directory
  onefs.dr.dr_report:
    record: "{{ finished.record }}"
    dest_dir: /srv/dr-evidence
  register: report

- name: Show the storage RTO
  ansible.builtin.debug:
    msg: "Run took {{ report.summary.rto_s }} s; report at {{ report.html_path }}"
'''

RETURN = r'''
html_path:
  description: Path of the HTML report.
  returned: always
  type: str
  sample: /var/lib/onefs-dr/records/20261122T031500Z-failover_planned-prod-dr.html
markdown_path:
  description: Path of the Markdown summary.
  returned: always
  type: str
markdown:
  description: The Markdown summary (what is written to RV(markdown_path)).
  returned: always
  type: str
html:
  description: The HTML page that would be written.
  returned: in check mode
  type: str
summary:
  description:
    - The figures of the report. C(rto_s) is the run's duration (null while it is not finished), C(rpo) per policy
      C({end_time, job_id, report_id, state, recorded, at_start_s, at_end_s}) (run start and run end minus the point
      in time; negative C(at_start_s) means reached during the run), C(worst_rpo_s), C(phases) as
      C([{name, started, ended, duration_s, steps, status}]), and counts of C(steps), C(steps_failed),
      C(warnings), C(manual_actions), plus C(unfenced_policies).
  returned: always
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.onefs.dr.plugins.module_utils import report
from ansible_collections.onefs.dr.plugins.module_utils.connection import connection_spec

ARGUMENT_SPEC = dict(
    record=dict(type="dict"),
    record_path=dict(type="path"),
    dest_dir=dict(type="path"),
    html_path=dict(type="path"),
    markdown_path=dict(type="path"),
)


def argument_spec():
    """The report's options plus the action group's connection options (accepted, ignored)."""
    spec = connection_spec(peer=True)
    spec.update(ARGUMENT_SPEC)
    return spec


def output_paths(params, record):
    dest_dir = params["dest_dir"]
    if not dest_dir and params["record_path"]:
        dest_dir = os.path.dirname(os.path.abspath(params["record_path"]))
    if dest_dir:
        html_path, markdown_path = report.default_paths(record, dest_dir)
    elif params["html_path"] and params["markdown_path"]:
        html_path, markdown_path = None, None
    else:
        raise report.ReportError("dest_dir is required with record (or give both html_path and markdown_path)")
    return params["html_path"] or html_path, params["markdown_path"] or markdown_path


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=[("record", "record_path")],
                           required_one_of=[("record", "record_path")])
    params = module.params
    try:
        if params["record_path"]:
            record = report.load_record(params["record_path"])
        else:
            record = params["record"]
            report.check_record(record)
        html_path, markdown_path = output_paths(params, record)
        outcome = report.write_files(record, html_path, markdown_path, check_mode=module.check_mode)
    except (report.ReportError, IOError, OSError) as err:
        module.fail_json(msg="dr_report: %s" % err)
    result = dict(changed=outcome["changed"], html_path=html_path, markdown_path=markdown_path,
                  markdown=outcome["markdown"], summary=outcome["summary"])
    if module.check_mode:
        result["html"] = outcome["html"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
