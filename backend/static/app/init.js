// Starts the GOV.UK Frontend components on every page (base.html); a file, not inline, for the CSP.
import { initAll } from "../assets/govuk-frontend.min.js";

initAll();
