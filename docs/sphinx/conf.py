# Sphinx configuration of the onefs.dr docs site (make docs -> build/docs/html).
# The RST pages are written by antsibull-docs from the installed collection (ansible-doc);
# rst/ here adds the start page and local targets for the few Ansible labels they link to,
# so that the site builds offline with warnings treated as errors.
# pylint: disable=invalid-name

project = 'onefs.dr'
copyright = 'onefs.dr contributors'  # pylint: disable=redefined-builtin
title = 'onefs.dr - disaster recovery for Dell PowerScale (OneFS)'
html_short_title = 'onefs.dr'

extensions = ['sphinx_antsibull_ext']

pygments_style = 'ansible'
highlight_language = 'YAML+Jinja'

html_theme = 'sphinx_ansible_theme'
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
display_version = False

# No intersphinx: the build must not need the network.
default_role = 'any'
nitpicky = True
