# -*- coding: utf-8 -*-
# Copyright: onefs.dr contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the spn module in a fork of Ansible's worker on a local connection (plugin_utils/forked_module.py)."""

from __future__ import annotations

from ansible_collections.onefs.dr.plugins.modules import spn
from ansible_collections.onefs.dr.plugins.plugin_utils.forked_module import ForkedModuleAction


class ActionModule(ForkedModuleAction):
    module = spn
