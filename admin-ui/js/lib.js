// The one place that knows where Preact and htm live; every other module imports from here.
import { h, render, Fragment, createContext } from '../vendor/preact.js';
import {
  useState, useEffect, useRef, useMemo, useCallback, useContext, useReducer, useLayoutEffect,
} from '../vendor/hooks.js';
import htm from '../vendor/htm.js';

export const html = htm.bind(h);
export {
  h, render, Fragment, createContext,
  useState, useEffect, useRef, useMemo, useCallback, useContext, useReducer, useLayoutEffect,
};
