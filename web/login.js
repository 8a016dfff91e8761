// Entry point of the login page (view/login.html).

import { createApi } from './api.js';
import { redirectIfLoggedIn, wireAuthForm } from './authform.js';

if (!redirectIfLoggedIn()) {
    const api = createApi();
    wireAuthForm(document.getElementById('login-form'), document.getElementById('form-error'), ({ mobile, passwd }) =>
        api.login({ mobile, passwd }),
    );
}
