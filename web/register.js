// Entry point of the registration page (view/register.html).

import { createApi } from './api.js';
import { redirectIfLoggedIn, wireAuthForm } from './authform.js';

if (!redirectIfLoggedIn()) {
    const api = createApi();
    wireAuthForm(
        document.getElementById('register-form'),
        document.getElementById('form-error'),
        ({ mobile, passwd, nickname }) => api.register({ mobile, passwd, nickname }),
    );
}
