"""The app's results, drawn with Streamlit: one module a tab, each drawing its tab from what the page holds.

``app.py`` sets the page up (title, sidebar, the run) and builds a :class:`~paysim.app_tabs.page.Page`; then
:mod:`.summary` draws the headline and who carries the risk, and each tab module's ``draw(page)`` its tab:

* :mod:`.risk`: the surplus of one year over the runs, expected shortfall, cost improvement;
* :mod:`.side_by_side`: scenarios side by side on the same replications;
* :mod:`.surplus`: the provider's surplus by month;
* :mod:`.spend`: the commissioner's spend by year;
* :mod:`.oap`: out-of-area placements;
* :mod:`.mhis`: the Mental Health Investment Standard;
* :mod:`.changes`: what the levers' changes did, and who captures a saving;
* :mod:`.sensitivity`: the tornado and Sobol indices;
* :mod:`.design`: contract design;
* :mod:`.activity`: what the simulation counted.

:mod:`.page` holds the :class:`Page` and the table and chart helpers; :mod:`.cached` the session-shared caches
(simulations, tornado, Sobol, design answers, scenario files, fits, risk attribution). Every figure, table and
chart comes from :mod:`paysim.app_support` (no Streamlit there, so it is tested without a browser); these modules
only lay them out.
"""
